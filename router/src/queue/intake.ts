import { DispatchQueue, REPLICA_ACK_TIMEOUT_MS } from './dispatch-queue';
import { JobRecords, QueuedJob } from './records';

interface Pending {
  job: QueuedJob;
  /** The record as written, made before the job joins a batch. */
  record: Buffer;
  resolve: (created: boolean) => void;
  reject: (err: unknown) => void;
}

/** A submit after EXEC: written (`alone`: its entry by a command of its own), or failed and undone. */
type Written = { p: Pending; created: boolean; alone: boolean };
type Outcome = Written | { p: Pending; error: unknown };

/** Most submits in one transaction; more wait for the next one. */
const MAX_BATCH = 256;

/**
 * Writes each new job's record and its dispatch-queue entry in one MULTI/EXEC, so a job is
 * queued whole or not at all (a dispatcher never finds an entry without its record, and a
 * failed write leaves no record behind). Submits that arrive in the same turn of the event
 * loop share one transaction: one round trip and one write instead of two per submit, which
 * is most of what the queued submit costs beyond a bare route. On a Redis Cluster a batch is
 * accepted once a replica holds it too (see `unreplicated`).
 */
export class JobIntake {
  private pending: Pending[] = [];
  private scheduled = false;

  constructor(
    private readonly records: JobRecords,
    private readonly dispatch: DispatchQueue,
  ) {}

  /**
   * Resolves once the record and the queue entry are both in Redis: true when this call wrote
   * the record, false when a record with the job's id was already there (a submit with the
   * same idempotency key); that record is left as it is, and so is its queue entry.
   */
  add(job: QueuedJob): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      // A record that cannot be written fails its own submit here, never the batch it would join.
      let record: Buffer;
      try {
        record = this.records.serialize(job);
      } catch (err) {
        reject(err);
        return;
      }
      this.pending.push({ job, record, resolve, reject });
      if (this.pending.length >= MAX_BATCH) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.flushScheduled);
      }
    });
  }

  private readonly flushScheduled = () => {
    this.scheduled = false;
    this.flush();
  };

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    if (batch.length > 0) void this.write(batch);
  }

  private async write(batch: Pending[]): Promise<void> {
    let outcomes: Outcome[];
    try {
      const tx = await this.dispatch.transaction();
      const staged = batch.map(({ job, record }) => {
        this.records.stage(tx, job.id, record);
        return this.dispatch.stage(tx, job.id, job.priority);
      });
      await Promise.all(staged);
      const results = await tx.exec();
      if (!results) throw new Error('the job transaction was discarded');
      outcomes = await Promise.all(batch.map((p, i) => this.settle(p, results[2 * i], results[2 * i + 1][0])));
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    const written = outcomes.filter((o): o is Written => !('error' in o));
    const unsafe = written.length > 0 ? await this.unreplicated(written.some((o) => o.alone)) : undefined;
    if (unsafe) await Promise.all(written.map((o) => this.undo(o.p.job.id, o.created, false)));
    for (const o of outcomes) {
      if ('error' in o) o.p.reject(o.error);
      else if (unsafe) o.p.reject(unsafe);
      else o.p.resolve(o.created);
    }
  }

  /**
   * On a Redis Cluster, a job is accepted only once a replica of the queue's master has it
   * (Redis WAIT): replication is asynchronous, and a master that dies before its replica has a
   * write loses it when the replica takes over. Undefined when the batch is safe; else why not.
   */
  private async unreplicated(alsoEntriesAlone: boolean): Promise<Error | undefined> {
    try {
      if (await this.dispatch.replicated(alsoEntriesAlone)) return undefined;
      return new Error(`no replica of the queue's Redis master acknowledged the job within ${REPLICA_ACK_TIMEOUT_MS} ms`);
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err));
    }
  }

  /** One submit after EXEC: Redis runs the rest of a transaction when one command fails. */
  private async settle(p: Pending, [recordError, recordReply]: [Error | null, unknown], entryError: Error | null): Promise<Outcome> {
    const created = !recordError && recordReply !== null;
    if (!recordError && !entryError) return { p, created, alone: false };
    try {
      if (recordError || !isNoScript(entryError)) throw recordError ?? entryError;
      // ioredis marks a Lua script as loaded when it writes it into a transaction, not when Redis
      // runs it, so after an aborted transaction (or SCRIPT FLUSH) every MULTI would fail here.
      // Queue.add, outside a transaction, reloads the script on NOSCRIPT, for every connection.
      await this.dispatch.enqueue(p.job.id, p.job.priority);
      return { p, created, alone: true };
    } catch (err) {
      await this.undo(p.job.id, created, recordError !== null);
      return { p, error: err };
    }
  }

  /**
   * After a failed write: our own record and entry go. A record that was already there belongs
   * to another submit with the same id (see `refill`), and so does the entry, unless our record
   * failed and no record is there at all.
   */
  private async undo(id: string, created: boolean, recordFailed: boolean): Promise<void> {
    if (created) {
      await Promise.allSettled([this.records.remove(id), this.dispatch.remove(id)]);
      return;
    }
    if (!recordFailed) return;
    // null: Redis could not say, so the entry stays
    const record = await this.records.get(id).catch(() => null);
    if (record === undefined) await this.dispatch.remove(id).catch(() => false);
  }

  /**
   * `add` for a job whose id an earlier submit claimed (an idempotency key) but never wrote.
   * If that submit's queue entry was written and has ended, BullMQ keeps it and skips the add
   * of an id it holds: the entry is made again, so the job does not wait forever.
   */
  async refill(job: QueuedJob): Promise<boolean> {
    const created = await this.add(job);
    if (created) await this.dispatch.revive(job.id, job.priority);
    return created;
  }
}

function isNoScript(err: Error | null): boolean {
  return err !== null && err.message.startsWith('NOSCRIPT');
}
