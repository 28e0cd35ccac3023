import { loadConfig } from '../../src/config';

const store = { S3_ENDPOINT: 'http://127.0.0.1:9', S3_BUCKET: 'artorizer' };

describe('resumable-upload settings', () => {
  it('expire tus uploads after a day by default', () => {
    expect(loadConfig(store).tusExpirySeconds).toBe(86_400);
  });

  it('refuse an expiry longer than the store keeps uploads', () => {
    expect(() => loadConfig({ ...store, TUS_UPLOAD_EXPIRY_SECONDS: String(2 * 86_400) })).toThrow(/TUS_UPLOAD_EXPIRY_SECONDS must not exceed OBJECT_RETENTION_DAYS/);
    expect(loadConfig({ ...store, TUS_UPLOAD_EXPIRY_SECONDS: String(2 * 86_400), OBJECT_RETENTION_DAYS: '2' }).tusExpirySeconds).toBe(2 * 86_400);
  });
});
