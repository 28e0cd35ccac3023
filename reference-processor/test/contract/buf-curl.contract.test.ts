import { describeBufCurlContract } from '@artorizer/testkit';
import { startTarget } from './target';

/*
 * The processor driven with `buf curl` and server reflection only (@artorizer/testkit): the
 * in-process reference processor, or CONTRACT_PROCESSOR_ADDR.
 */
describeBufCurlContract(() => startTarget());
