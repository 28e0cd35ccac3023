import { AnalysisProcessor, JobStage, JobState, LayerStatus, ProtectionLayer, WatermarkStrategy } from '../gen/artorizer/v1/artorizer';

/** The original API's names for the analysis processors. */
export const PROCESSOR_NAMES = {
  metadata: AnalysisProcessor.ANALYSIS_PROCESSOR_METADATA,
  imagehash: AnalysisProcessor.ANALYSIS_PROCESSOR_IMAGEHASH,
  dhash: AnalysisProcessor.ANALYSIS_PROCESSOR_DHASH,
  blockhash: AnalysisProcessor.ANALYSIS_PROCESSOR_BLOCKHASH,
  stegano: AnalysisProcessor.ANALYSIS_PROCESSOR_STEGANO,
  tineye: AnalysisProcessor.ANALYSIS_PROCESSOR_TINEYE,
} as const satisfies Record<string, AnalysisProcessor>;
export type ProcessorName = keyof typeof PROCESSOR_NAMES;

/** The original API's names for the protection layers. */
export const LAYER_NAMES = {
  fawkes: ProtectionLayer.PROTECTION_LAYER_FAWKES,
  photoguard: ProtectionLayer.PROTECTION_LAYER_PHOTOGUARD,
  mist: ProtectionLayer.PROTECTION_LAYER_MIST,
  nightshade: ProtectionLayer.PROTECTION_LAYER_NIGHTSHADE,
  'invisible-watermark': ProtectionLayer.PROTECTION_LAYER_INVISIBLE_WATERMARK,
  'tree-ring': ProtectionLayer.PROTECTION_LAYER_TREE_RING,
  'stegano-embed': ProtectionLayer.PROTECTION_LAYER_STEGANO_EMBED,
  'c2pa-manifest': ProtectionLayer.PROTECTION_LAYER_C2PA_MANIFEST,
} as const satisfies Record<string, ProtectionLayer>;
export type LayerName = keyof typeof LAYER_NAMES;

/** The original API's `watermark_strategy` values. */
export const WATERMARK_STRATEGY_NAMES = {
  'invisible-watermark': WatermarkStrategy.WATERMARK_STRATEGY_INVISIBLE,
  'tree-ring': WatermarkStrategy.WATERMARK_STRATEGY_TREE_RING,
  none: WatermarkStrategy.WATERMARK_STRATEGY_NONE,
} as const satisfies Record<string, WatermarkStrategy>;

/** Job status strings of the original HTTP API. */
export type JobStatusName = 'queued' | 'processing' | 'completed' | 'failed' | 'cancelled';

const STATE_NAMES: Record<JobState, JobStatusName> = {
  [JobState.JOB_STATE_UNSPECIFIED]: 'queued',
  [JobState.JOB_STATE_QUEUED]: 'queued',
  [JobState.JOB_STATE_PROCESSING]: 'processing',
  [JobState.JOB_STATE_COMPLETED]: 'completed',
  [JobState.JOB_STATE_FAILED]: 'failed',
  [JobState.JOB_STATE_CANCELLED]: 'cancelled',
  [JobState.UNRECOGNIZED]: 'failed',
};

export function jobStatusName(state: JobState): JobStatusName {
  return STATE_NAMES[state];
}

export function isTerminalState(state: JobState): boolean {
  return state === JobState.JOB_STATE_COMPLETED || state === JobState.JOB_STATE_FAILED || state === JobState.JOB_STATE_CANCELLED;
}

function reverse<V extends number>(table: Record<string, V>): Map<V, string> {
  return new Map(Object.entries(table).map(([name, value]) => [value, name]));
}
const PROCESSOR_BY_VALUE = reverse<AnalysisProcessor>(PROCESSOR_NAMES);
const LAYER_BY_VALUE = reverse<ProtectionLayer>(LAYER_NAMES);

export function processorName(p: AnalysisProcessor): string {
  return PROCESSOR_BY_VALUE.get(p) ?? 'unknown';
}

export function layerName(l: ProtectionLayer): string {
  return LAYER_BY_VALUE.get(l) ?? 'unknown';
}

const LAYER_STATUS_NAMES: Record<LayerStatus, string> = {
  [LayerStatus.LAYER_STATUS_UNSPECIFIED]: 'unknown',
  [LayerStatus.LAYER_STATUS_APPLIED]: 'applied',
  [LayerStatus.LAYER_STATUS_SKIPPED]: 'skipped',
  [LayerStatus.LAYER_STATUS_FAILED]: 'failed',
  [LayerStatus.UNRECOGNIZED]: 'unknown',
};

export function layerStatusName(s: LayerStatus): string {
  return LAYER_STATUS_NAMES[s];
}

const STAGE_NAMES: Record<JobStage, string> = {
  [JobStage.JOB_STAGE_UNSPECIFIED]: 'unknown',
  [JobStage.JOB_STAGE_QUEUED]: 'queued',
  [JobStage.JOB_STAGE_DECODING]: 'decoding',
  [JobStage.JOB_STAGE_ANALYZING]: 'analyzing',
  [JobStage.JOB_STAGE_PROTECTING]: 'protecting',
  [JobStage.JOB_STAGE_STORING]: 'storing',
  [JobStage.JOB_STAGE_DONE]: 'done',
  [JobStage.JOB_STAGE_FETCHING]: 'fetching',
  [JobStage.UNRECOGNIZED]: 'unknown',
};

export function stageName(s: JobStage): string {
  return STAGE_NAMES[s];
}
