import { describeWithRedis } from '../queue/redis';
import { rgwUnavailable, startRgw } from '../storage/stores';
import { tusSuite } from './suite';

/* The same resumable-upload suite on a real S3 engine (Ceph RGW): real multipart state and aborts. */
const reason = (() => {
  try {
    require('node:child_process').execFileSync('which', ['radosgw'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'Ceph RGW is not installed (scripts/rgw/install.sh installs it; .ci/run does)';
  }
})();

if (reason && process.env.CI !== 'true') {
  process.stderr.write(`\n[tus suite] not running against Ceph RGW: ${reason}\n`);
  describe('resumable uploads (tus) on Ceph RGW', () => {
    it('needs Ceph RGW, which is absent on this machine (CI installs it)', async () => {
      expect(await rgwUnavailable()).toBe(reason);
    });
  });
} else {
  describeWithRedis('resumable uploads (tus) on Ceph RGW', () => {
    tusSuite(() => startRgw('artorizer-tus'));
  });
}
