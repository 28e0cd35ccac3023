import { AnalysisOptions, AnalysisProcessor, JobSpec, ProtectionOptions } from '../gen/artorizer/v1/artorizer';
import { jobSpecFromFields } from './spec-fields';

const ORIGINAL_DEFAULTS = jobSpecFromFields({ artist_name: '-', artwork_title: '-' });

/** The original API's analysis defaults, used when a spec carries no AnalysisOptions. */
export const DEFAULT_ANALYSIS: AnalysisOptions = ORIGINAL_DEFAULTS.analysis!;
/** The original API's protection defaults, used when a spec carries no ProtectionOptions. */
export const DEFAULT_PROTECTION: ProtectionOptions = ORIGINAL_DEFAULTS.protection!;

/** The spec with absent option groups replaced by the original API's defaults. */
export function withDefaults(spec: JobSpec): JobSpec & {
  analysis: AnalysisOptions;
  protection: ProtectionOptions;
} {
  return {
    ...spec,
    analysis: spec.analysis ?? DEFAULT_ANALYSIS,
    protection: spec.protection ?? DEFAULT_PROTECTION,
  };
}

/** The analysis processors a job runs when its spec names none (TinEye only when asked for). */
export const DEFAULT_PROCESSORS: readonly AnalysisProcessor[] = [
  AnalysisProcessor.ANALYSIS_PROCESSOR_METADATA,
  AnalysisProcessor.ANALYSIS_PROCESSOR_IMAGEHASH,
  AnalysisProcessor.ANALYSIS_PROCESSOR_DHASH,
  AnalysisProcessor.ANALYSIS_PROCESSOR_BLOCKHASH,
  AnalysisProcessor.ANALYSIS_PROCESSOR_STEGANO,
];
