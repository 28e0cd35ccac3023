import { writeTestFiles } from './files';
import { JobSample } from './job-sample';
import { createTransferLab, removeStaleNamespaces, unavailableReason } from './netns';
import { roundsBySize } from './rounds';
import { nginxUnavailable } from './nginx';
import { Service } from './stack';
import { TransferRow, transferRows } from './transfer-summary';
import { startTransferStack, transferPlans } from './transfer-stack';

export interface NetSection {
  rateMbit: number;
  description: string;
  namespaces: string[];
  qdiscs: string;
  staleRemoved: string[];
  sizes: number[];
  runs: number;
  samples: JobSample[];
  rows: TransferRow[];
}

export interface NetSkipped {
  skipped: string;
}

/**
 * The transfer benchmark over rate-limited links between network namespaces (see netns.ts).
 * Returns { skipped } without doing anything when namespaces cannot be made here. The
 * namespaces are removed before this returns or throws; services started are pushed to
 * `services` at once (for the caller's signal handlers) and stopped here.
 */
export async function runNet(o: {
  sizes: number[];
  runs: number;
  rateMbit: number;
  tempDir: string;
  services: Service[];
  log: (m: string) => void;
  check: () => void;
}): Promise<NetSection | NetSkipped> {
  const reason = await unavailableReason();
  if (reason) return { skipped: reason };
  const staleRemoved = removeStaleNamespaces();
  const { lab, topology } = await createTransferLab(o.rateMbit);
  const mine = o.services;
  try {
    o.log(`constrained links: namespaces ${lab.namespaces.join(', ')}, ${o.rateMbit} Mbit/s per link`);
    const { files, maxBytes } = writeTestFiles(o.tempDir, o.sizes);
    const plans = transferPlans({ nginx: !nginxUnavailable(), rgw: false });
    const stack = await startTransferStack({ topology, plans, tempDir: o.tempDir, maxBytes, services: mine, log: o.log });
    const contenders = stack.contenders;
    const samples = await roundsBySize(stack, { section: 'constrained', sizes: o.sizes, contenders, runs: o.runs, files, settleTimeoutMs: 300_000, log: o.log, check: o.check });
    return {
      rateMbit: o.rateMbit,
      description: topology.description,
      namespaces: lab.namespaces,
      qdiscs: lab.qdiscs,
      staleRemoved,
      sizes: o.sizes,
      runs: o.runs,
      samples,
      rows: transferRows(samples, 'constrained'),
    };
  } finally {
    await Promise.all(mine.map((s) => s.stop()));
    lab.teardown();
  }
}
