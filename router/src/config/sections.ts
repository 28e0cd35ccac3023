import { Section, grpcTlsSettings } from '@artorizer/service-kit';
import { accessSettings } from './access';
import { processorSettings } from './processors';
import { queueSettings } from './queue';
import { processSettings, serverSettings } from './server';
import { storeSettings } from './store';

export const grpcClientTlsSettings = grpcTlsSettings('client');

/** Every setting the router reads, in the order of its table in docs/configuration.md. */
export const ROUTER_SECTIONS: readonly Section[] = [serverSettings, processorSettings, grpcClientTlsSettings, accessSettings, storeSettings, queueSettings, processSettings];
