import { PassThrough } from 'node:stream';
import { ChunkPool, Downstream, imageChunks } from '../src/upload/chunker';

/* Re-cutting uploads into chunk messages: sizes, the image check, and the flush of a partly filled chunk to an idle downstream. */
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);

function nextOrStuck<T>(it: AsyncIterator<T>, ms = 2000): Promise<IteratorResult<T> | 'stuck'> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([it.next(), new Promise<'stuck'>((resolve) => (timer = setTimeout(resolve, ms, 'stuck')))]).finally(() => clearTimeout(timer));
}

describe('imageChunks', () => {
  it('cuts a stream into chunks of the given size, the last one shorter', async () => {
    const source = new PassThrough();
    const body = Buffer.concat([PNG_SIGNATURE, Buffer.alloc(2500, 7)]);
    source.end(body);
    const chunks: Buffer[] = [];
    for await (const chunk of imageChunks(source, 1000)) chunks.push(Buffer.from(chunk));
    expect(chunks.map((c) => c.length)).toEqual([1000, 1000, 516]);
    expect(Buffer.concat(chunks).equals(body)).toBe(true);
  });

  it('refuses a stream that does not start like an image', async () => {
    const source = new PassThrough();
    source.end(Buffer.from('<html>not an image at all</html>'));
    await expect(imageChunks(source, 1000).next()).rejects.toMatchObject({ status: 415 });
  });

  /** A downstream whose idleness the test sets. */
  function downstream(initially: boolean): Downstream & { setIdle(idle: boolean): void } {
    let idle = initially;
    const waiters: (() => void)[] = [];
    return {
      get idle() {
        return idle;
      },
      whenIdle: () => (idle ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve))),
      setIdle(now: boolean) {
        idle = now;
        if (now) for (const resolve of waiters.splice(0)) resolve();
      },
    };
  }

  it('hands a partly filled chunk to an idle downstream as soon as the source has nothing more, and keeps filling otherwise', async () => {
    const source = new PassThrough();
    const pool = new ChunkPool(1000, 2);
    const chunks = imageChunks(source, 1000, { pool, downstream: downstream(true) });
    source.write(Buffer.concat([PNG_SIGNATURE, Buffer.alloc(300, 1)]));
    const first = await nextOrStuck(chunks);
    expect(first).not.toBe('stuck');
    const partial = (first as IteratorResult<Buffer>).value as Buffer;
    expect(partial.length).toBe(316);
    // a flushed partial chunk goes back to the pool like a full one
    const buffer = partial.buffer;
    pool.give(partial);
    source.write(Buffer.alloc(600, 2));
    const second = (await chunks.next()).value as Buffer;
    expect(second.length).toBe(600);
    expect(second.buffer === buffer).toBe(true);
    source.end();
    expect(await chunks.next()).toMatchObject({ done: true });
  });

  /** An upload of 1000-byte chunks whose first 316 bytes have arrived, with the downstream busy. */
  function partialBehindBusyDownstream() {
    const source = new PassThrough();
    const busy = downstream(false);
    const chunks = imageChunks(source, 1000, { downstream: busy });
    source.write(Buffer.concat([PNG_SIGNATURE, Buffer.alloc(300, 1)]));
    return { source, busy, chunks };
  }

  /** 'stuck' when the promise has not settled within 100 ms. */
  const within100ms = (pending: Promise<unknown>) => Promise.race([pending, new Promise((resolve) => setTimeout(resolve, 100, 'stuck'))]);

  it('holds a partly filled chunk while the downstream is busy and hands it out when it turns idle', async () => {
    const { busy, chunks } = partialBehindBusyDownstream();
    const pending = chunks.next();
    expect(await within100ms(pending)).toBe('stuck');
    busy.setIdle(true);
    expect(((await pending).value as Buffer).length).toBe(316);
  });

  it('takes an idle downstream as a reason to flush only while it waits with a partial chunk, not in a later wait', async () => {
    const { source, busy, chunks } = partialBehindBusyDownstream();
    const pending = chunks.next();
    // the reader now waits for more, with the downstream's whenIdle pending (microtasks run before setImmediate)
    await new Promise((resolve) => setImmediate(resolve));
    // the rest of the chunk arrives while the downstream is still busy: a full chunk, nothing held
    source.write(Buffer.alloc(684, 2));
    expect(((await pending).value as Buffer).length).toBe(1000);
    const next = chunks.next();
    await new Promise((resolve) => setImmediate(resolve));
    // now the reader waits again, with nothing held: an idle downstream is no reason to hand anything out
    busy.setIdle(true);
    expect(await within100ms(next)).toBe('stuck');
    source.end(Buffer.alloc(10, 3));
    expect(((await next).value as Buffer).length).toBe(10);
  });

  it('without a downstream holds a partly filled chunk until it is full or the stream ends', async () => {
    const source = new PassThrough();
    const chunks = imageChunks(source, 1000);
    source.write(Buffer.concat([PNG_SIGNATURE, Buffer.alloc(300, 1)]));
    expect(await nextOrStuck(chunks, 100)).toBe('stuck');
  });

  it('leaves the stream to others when the consumer stops early', async () => {
    const source = new PassThrough();
    const chunks = imageChunks(source, 100, { downstream: downstream(true) });
    source.write(Buffer.concat([PNG_SIGNATURE, Buffer.alloc(200, 1)]));
    await chunks.next();
    await chunks.return(undefined);
    source.end(Buffer.alloc(50, 3));
    const rest: Buffer[] = [];
    for await (const piece of source) rest.push(piece as Buffer);
    expect(Buffer.concat(rest).length).toBeGreaterThanOrEqual(50);
  });
});

describe('ChunkPool', () => {
  it('serves the next upload from a buffer the last one gave back', async () => {
    const pool = new ChunkPool(1000, 2);
    const upload = async (fill: number) => {
      const source = new PassThrough();
      source.end(Buffer.concat([PNG_SIGNATURE, Buffer.alloc(100, fill)]));
      const chunks: Buffer[] = [];
      for await (const chunk of imageChunks(source, 1000, { pool })) chunks.push(chunk);
      return chunks;
    };
    const [first] = await upload(1);
    pool.give(first);
    const [second] = await upload(2);
    expect(second.buffer).toBe(first.buffer);
    expect(second.subarray(PNG_SIGNATURE.length).every((b) => b === 2)).toBe(true);
  });

  it('takes a chunk back once however often it is given, so two takers never share a buffer', () => {
    const pool = new ChunkPool(1000, 4);
    const chunk = pool.take();
    pool.give(chunk);
    pool.give(chunk);
    const a = pool.take();
    const b = pool.take();
    expect(a.buffer).toBe(chunk.buffer);
    expect(b.buffer).not.toBe(chunk.buffer);
  });

  it('keeps no buffer it did not hand out, and at most `keep` spares', () => {
    const pool = new ChunkPool(1000, 1);
    // a plain buffer, and a chunk buffer of the right size handed out by another pool
    const foreign = new ChunkPool(1000, 1).take();
    pool.give(Buffer.alloc(1000));
    pool.give(foreign);
    const taken = [pool.take(), pool.take()];
    expect(taken.map((c) => c.buffer)).not.toContain(foreign.buffer);
    for (const chunk of taken) pool.give(chunk);
    expect(pool.take().buffer).toBe(taken[0].buffer);
    expect(taken.map((c) => c.buffer)).not.toContain(pool.take().buffer);
  });
});
