import busboy from 'busboy';

/*
 * busboy's boundary search (streamsearch, patched in patches/streamsearch+1.1.0.patch to search
 * with Buffer#indexOf): wherever the body is cut into writes, the file comes out byte for byte,
 * including bytes that look like the start of a boundary and boundaries split across writes.
 */
const BOUNDARY = 'x-boundary-0123456789';
const DELIMITER = `\r\n--${BOUNDARY}`;

/** File bytes full of near-misses: every proper prefix of the delimiter, and the delimiter with its last byte changed. */
function trickyFile(): Buffer {
  const pieces: Buffer[] = [];
  for (let n = 1; n < DELIMITER.length; n++) pieces.push(Buffer.from(`${DELIMITER.slice(0, n)}#${n % 7}`, 'latin1'));
  pieces.push(Buffer.from(`${DELIMITER.slice(0, -1)}!`, 'latin1'), Buffer.from([0, 13, 10, 45, 45, 255]));
  return Buffer.concat(pieces);
}

function body(file: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="title"\r\n\r\nbefore\r\n`),
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`),
    file,
    Buffer.from(`${DELIMITER}\r\nContent-Disposition: form-data; name="after"\r\n\r\nlate\r\n--${BOUNDARY}--\r\n`),
  ]);
}

/** Parses `data` written in pieces of the given sizes (cycled); the file's bytes and the fields. */
function parse(data: Buffer, sizes: readonly number[]): Promise<{ file: Buffer; fields: Record<string, string> }> {
  return new Promise((resolve, reject) => {
    const parser = busboy({ headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` } });
    const fileChunks: Buffer[] = [];
    const fields: Record<string, string> = {};
    parser.on('file', (_name, stream) => stream.on('data', (chunk: Buffer) => fileChunks.push(chunk)));
    parser.on('field', (name, value) => (fields[name] = value));
    parser.on('error', reject);
    parser.on('close', () => resolve({ file: Buffer.concat(fileChunks), fields }));
    for (let offset = 0, i = 0; offset < data.length; i++) {
      const size = sizes[i % sizes.length];
      parser.write(data.subarray(offset, offset + size));
      offset += size;
    }
    parser.end();
  });
}

describe('the multipart boundary search', () => {
  const file = trickyFile();
  const data = body(file);

  it.each([1, 2, 3, 5, 7, 13, DELIMITER.length - 1, DELIMITER.length, DELIMITER.length + 1, 64, 1000])('finds every boundary when the body comes in writes of %i bytes', async (size) => {
    const parsed = await parse(data, [size]);
    expect(parsed.file.equals(file)).toBe(true);
    expect(parsed.fields).toEqual({ title: 'before', after: 'late' });
  });

  it('finds every boundary wherever the body is cut in two', async () => {
    for (let cut = 1; cut < data.length; cut++) {
      const parsed = await parse(data, [cut, data.length]);
      expect(parsed.file.equals(file)).toBe(true);
      expect(parsed.fields).toEqual({ title: 'before', after: 'late' });
    }
  });

  it('finds every boundary when the body comes in writes of uneven sizes', async () => {
    for (const sizes of [
      [1, 30],
      [17, 4, 9],
      [DELIMITER.length - 3, 5],
    ]) {
      const parsed = await parse(data, sizes);
      expect(parsed.file.equals(file)).toBe(true);
      expect(parsed.fields).toEqual({ title: 'before', after: 'late' });
    }
  });

  it('keeps a large file whole when it arrives in socket-sized writes', async () => {
    const large = Buffer.concat([Buffer.alloc(3 * 65536 + 11, 45), file, Buffer.alloc(65536, 13)]);
    const parsed = await parse(body(large), [65536]);
    expect(parsed.file.equals(large)).toBe(true);
  });
});
