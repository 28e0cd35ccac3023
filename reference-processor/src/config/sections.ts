import { Section } from '@artorizer/service-kit';
import { jobSettings, logSettings } from './jobs';
import { grpcServerTlsSettings, listenerSettings } from './listeners';
import { storeSettings } from './store';

/** Every setting the processor reads, in the order of its table in docs/configuration.md. */
export const PROCESSOR_SECTIONS: readonly Section[] = [listenerSettings, grpcServerTlsSettings, jobSettings, storeSettings, logSettings];
