import { LocalProcessor, LocalRouter, startLocalProcessor, startLocalRouter } from '../../router/test/harness';
import { TestStore, startEmbedded } from '../../router/test/storage/stores';

/** A real router and reference processor, with the embedded S3 store (resumable uploads at /files) or without (multipart only). */
export interface Stack {
  router: LocalRouter;
  processor: LocalProcessor;
  store?: TestStore;
  stop(): Promise<void>;
}

export async function startStack(options: { store: boolean; bucket?: string; processorEnv?: Record<string, string>; routerEnv?: Record<string, string> }): Promise<Stack> {
  const store = options.store ? await startEmbedded(options.bucket ?? 'artorizer-cli') : undefined;
  const storeEnv = store?.env ?? {};
  let processor: LocalProcessor | undefined;
  try {
    processor = await startLocalProcessor({ ...storeEnv, ...options.processorEnv });
    const router = await startLocalRouter({ ...storeEnv, PROCESSOR_ADDR: processor.address, ...options.routerEnv });
    const running = processor;
    return {
      router,
      processor: running,
      store,
      stop: async () => {
        await router.stop(100);
        await running.stop(100);
        await store?.stop();
      },
    };
  } catch (err) {
    await processor?.stop(0);
    await store?.stop();
    throw err;
  }
}
