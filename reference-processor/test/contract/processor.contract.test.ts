import { EXTERNAL_ADDR, describeProcessorContract } from '@artorizer/testkit';
import { startTarget } from './target';

/*
 * The artorizer.v1 contract suite (@artorizer/testkit), checked over a real socket with the
 * generated client. Runs against the in-process reference processor, or against
 * CONTRACT_PROCESSOR_ADDR.
 */
describeProcessorContract(() => startTarget());

// The size-limit test streams target.maxImageBytes: against an external processor with the
// default 256 MiB limit that is a long upload, so it gets a longer timeout.
if (EXTERNAL_ADDR) jest.setTimeout(120_000);
