import { RunRecord } from './record';
import { fixed } from './stats';
import { ConcurrencyRow, TransferRow } from './transfer-summary';
import { Verdict, judge } from './verdicts';

/**
 * What `make up` gives a user, judged against the other paths of the same run: the router
 * as `make up` starts it (`default`: no TRANSFER_MODE, the embedded store), the transfer
 * modes, the one-hop floor and nginx in front of the processor.
 */

/** Transfer modes a router can be set to, on the store `make up` has (the RGW rows are another store). */
export const MODES = ['legacy', 'stream', 's3', 'direct', 'default'];

const x = (r: number) => `${fixed(r, 2)}×`;

export interface AutoRow {
  sizeMiB: number;
  streamMs: number;
  s3Ms: number;
  s3RgwMs: number;
  /** The faster of stream and s3 on the embedded store at this size. */
  faster: 'stream' | 's3';
}

function median(rows: readonly TransferRow[], sizeMiB: number, label: string): number {
  return rows.find((r) => r.sizeMiB === sizeMiB && r.contender === label)?.timeMs.median ?? Number.NaN;
}

/** The table auto's choice is derived from: stream beside s3 (embedded store and Ceph RGW) at each size. */
export function autoTable(rows: readonly TransferRow[]): AutoRow[] {
  const sizes = [...new Set(rows.map((r) => r.sizeMiB))].sort((a, b) => a - b);
  return sizes.map((sizeMiB) => {
    const streamMs = median(rows, sizeMiB, 'stream');
    const s3Ms = median(rows, sizeMiB, 's3');
    return { sizeMiB, streamMs, s3Ms, s3RgwMs: median(rows, sizeMiB, 's3-rgw'), faster: s3Ms < streamMs ? 's3' : 'stream' };
  });
}

/** The smallest size from which s3 is faster at it and every larger size; undefined when there is none. */
export function derivedThresholdMiB(table: readonly AutoRow[]): number | undefined {
  let from: number | undefined;
  for (const row of [...table].reverse()) {
    if (row.faster !== 's3') break;
    from = row.sizeMiB;
  }
  return from;
}

function fastestMode(rows: readonly TransferRow[], sizeMiB: number): TransferRow | undefined {
  return rows.filter((r) => r.sizeMiB === sizeMiB && MODES.includes(r.contender)).sort((a, b) => a.timeMs.median - b.timeMs.median)[0];
}

/** A baseline contender's ratio as a phrase; empty where that contender was not measured. */
const baseline =
  (name: string) =>
  (ratio: number, unit = ''): string =>
    Number.isFinite(ratio) ? `${name}: ${x(ratio)}${unit}` : '';

/** The cheapest Node hop (the `passthrough` contender) and a standard engine (the `nginx` contender). */
const passthrough = baseline('a Node process that only pipes the body');
const nginx = baseline('nginx in front of the processor');

/** The phrases that are not empty, separated by semicolons. */
const phrases = (...parts: string[]) => parts.filter(Boolean).join('; ');

/** A phrase in parentheses after a figure; nothing for an empty one. */
const aside = (phrase: string) => (phrase ? ` (${phrase})` : '');

function defaultVsModes(where: string, rows: readonly TransferRow[] | undefined): Verdict {
  const claim = `make up's router (default) at most 0.6× legacy and within 1.2× of the fastest mode: ${where}`;
  const sizes = [...new Set((rows ?? []).map((r) => r.sizeMiB))];
  const cells = sizes.map((sizeMiB) => {
    const def = median(rows!, sizeMiB, 'default');
    const fastest = fastestMode(rows!, sizeMiB);
    const legacy = median(rows!, sizeMiB, 'legacy');
    return {
      sizeMiB,
      vsLegacy: def / legacy,
      floorVsLegacy: median(rows!, sizeMiB, 'floor') / legacy,
      passthroughVsLegacy: median(rows!, sizeMiB, 'passthrough') / legacy,
      nginxVsLegacy: median(rows!, sizeMiB, 'nginx') / legacy,
      vsFastest: def / (fastest?.timeMs.median ?? Number.NaN),
      fastest: fastest?.contender ?? '?',
    };
  });
  if (cells.length === 0) return { claim, measured: 'not measured in this run', outcome: 'not measured', rule: '' };
  const held = cells.filter((c) => c.vsLegacy <= 0.6 && c.vsFastest <= 1.2);
  return {
    claim,
    measured: cells
      .map(
        (c) =>
          `${c.sizeMiB} MiB: ${x(c.vsLegacy)} legacy (${phrases(`the floor, with no router: ${x(c.floorVsLegacy)}`, nginx(c.nginxVsLegacy), passthrough(c.passthroughVsLegacy))}), ${x(c.vsFastest)} the fastest mode (${c.fastest})`,
      )
      .join('; '),
    outcome: judge(
      cells.flatMap((c) => [c.vsLegacy, c.vsFastest]),
      held.length === cells.length,
    ),
    rule: `ratios of median times to the 202; modes are ${MODES.join(', ')} on the embedded store; held at ${held.length} of ${cells.length} sizes`,
  };
}

function concurrencyVerdict(rows: readonly ConcurrencyRow[] | undefined, uploads: number, sizeMiB: number): Verdict {
  const claim = `make up's router at most 0.6× legacy and within 1.2× of the fastest mode: ${uploads} concurrent ${sizeMiB} MiB uploads`;
  const wall = (label: string) => rows?.find((r) => r.contender === label)?.wallMs.median ?? Number.NaN;
  const modes = (rows ?? []).filter((r) => MODES.includes(r.contender)).sort((a, b) => a.wallMs.median - b.wallMs.median);
  const def = wall('default');
  const vsLegacy = def / wall('legacy');
  const vsFastest = def / (modes[0]?.wallMs.median ?? Number.NaN);
  return {
    claim,
    measured: phrases(
      `wall time for all: ${x(vsLegacy)} legacy, ${x(vsFastest)} the fastest mode (${modes[0]?.contender ?? '?'})`,
      Number.isFinite(wall('floor'))
        ? `with no router on the path (the clients straight to the processor, floor): ${x(wall('floor') / wall('legacy'))} legacy, a bound no router in front of this processor can beat on this machine`
        : '',
      nginx(wall('nginx') / wall('legacy'), ' legacy'),
      passthrough(wall('passthrough') / wall('legacy'), ' legacy'),
    ),
    outcome: judge([vsLegacy, vsFastest], vsLegacy <= 0.6 && vsFastest <= 1.2),
    rule: 'ratios of median wall times for the whole burst',
  };
}

function streamVsBaselines(rows: readonly TransferRow[] | undefined): Verdict[] {
  const sizes = [...new Set((rows ?? []).map((r) => r.sizeMiB))];
  const cells = sizes.map((sizeMiB) => {
    const stream = rows!.find((r) => r.sizeMiB === sizeMiB && r.contender === 'stream');
    return {
      sizeMiB,
      vsFloor: (stream?.timeMs.median ?? Number.NaN) / median(rows!, sizeMiB, 'floor'),
      vsNginx: (stream?.timeMs.median ?? Number.NaN) / median(rows!, sizeMiB, 'nginx'),
      passthroughVsFloor: median(rows!, sizeMiB, 'passthrough') / median(rows!, sizeMiB, 'floor'),
      passthroughVsNginx: median(rows!, sizeMiB, 'passthrough') / median(rows!, sizeMiB, 'nginx'),
      cpuPerMiB: stream?.routerCpuMsPerMiB.median ?? Number.NaN,
    };
  });
  if (cells.length === 0) return [{ claim: 'stream path at most 1.4× the one-hop floor and no slower than nginx', measured: 'not measured in this run', outcome: 'not measured', rule: '' }];
  const floorHeld = cells.filter((c) => c.vsFloor <= 1.4).length;
  const nginxHeld = cells.filter((c) => c.vsNginx <= 1).length;
  return [
    {
      claim: 'stream path at most 1.4× the one-hop floor (loopback)',
      measured: cells.map((c) => `${c.sizeMiB} MiB ${x(c.vsFloor)} (${phrases(`router CPU ${fixed(c.cpuPerMiB, 1)} ms per MiB`, passthrough(c.passthroughVsFloor))})`).join('; '),
      outcome: judge(
        cells.map((c) => c.vsFloor),
        floorHeld === cells.length,
      ),
      rule: `ratio of median times to the 202; held at ${floorHeld} of ${cells.length} sizes`,
    },
    {
      claim: 'stream path no slower than nginx in front of the processor (loopback)',
      measured: cells.map((c) => `${c.sizeMiB} MiB ${x(c.vsNginx)}${aside(passthrough(c.passthroughVsNginx))}`).join('; '),
      outcome: judge(
        cells.map((c) => c.vsNginx),
        nginxHeld === cells.length,
      ),
      rule: `ratio of median times to the 202, stream ÷ nginx; held at ${nginxHeld} of ${cells.length} sizes`,
    },
  ];
}

function autoVerdict(record: RunRecord): Verdict {
  const claim = "auto's choice at each size is the faster path of this run's table";
  const rows = record.transfer?.rows;
  if (!rows) return { claim, measured: 'not measured in this run', outcome: 'not measured', rule: '' };
  const table = autoTable(rows);
  const configured = record.routerDefaults.autoS3ThresholdBytes;
  const choice = (sizeMiB: number) => (configured !== null && sizeMiB * 1024 * 1024 >= configured ? 's3' : 'stream');
  const agree = table.filter((r) => choice(r.sizeMiB) === r.faster);
  const derived = derivedThresholdMiB(table);
  return {
    claim,
    measured:
      `faster per size: ${table.map((r) => `${r.sizeMiB} MiB ${r.faster}`).join(', ')}; derived AUTO_S3_THRESHOLD: ${derived === undefined ? 'none (stream at every size)' : `${derived} MiB`}; ` +
      `the router's default: ${configured === null ? 'unset (stream at every size)' : `${configured} bytes`}`,
    outcome: judge(
      table.flatMap((r) => [r.streamMs, r.s3Ms]),
      agree.length === table.length,
    ),
    rule: `the default's choice equals the faster of stream and s3 (embedded store) at ${agree.length} of ${table.length} sizes; held at all`,
  };
}

export function defaultPathVerdicts(record: RunRecord): Verdict[] {
  const net = record.net && 'rows' in record.net ? record.net : undefined;
  const c = record.options.concurrency;
  return [
    defaultVsModes('loopback', record.transfer?.rows),
    defaultVsModes(net ? `${net.rateMbit} Mbit/s links` : 'constrained links', net?.rows),
    concurrencyVerdict(record.concurrency?.rows, c.uploads, c.sizeMiB),
    ...streamVsBaselines(record.transfer?.rows),
    autoVerdict(record),
  ];
}
