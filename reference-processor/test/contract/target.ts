import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startProcessor, RunningProcessor } from '../../src/app';
import { loadConfig } from '../../src/config';
import { logger } from '../../src/logger';

/**
 * The processor under test. With CONTRACT_PROCESSOR_ADDR=host:port the suite runs against
 * that processor (CONTRACT_MAX_IMAGE_SIZE tells it the target's size limit, default
 * 256 MiB); otherwise it starts the reference processor in-process on free ports.
 */
export interface Target {
  address: string;
  maxImageBytes: number;
  /** Set only for the in-process reference processor: lets tests look inside (`workDir` is its own folder). */
  local?: RunningProcessor;
  stop(): Promise<void>;
}

export const EXTERNAL_ADDR = process.env.CONTRACT_PROCESSOR_ADDR;

export async function startTarget(overrides: Record<string, string> = {}): Promise<Target> {
  if (EXTERNAL_ADDR) {
    return {
      address: EXTERNAL_ADDR,
      maxImageBytes: Number(process.env.CONTRACT_MAX_IMAGE_SIZE ?? 256 * 1024 * 1024),
      stop: async () => undefined,
    };
  }
  const workRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'artorizer-contract-'));
  const config = loadConfig({
    HOST: '127.0.0.1',
    GRPC_PORT: '0',
    HTTP_PORT: '0',
    MAX_IMAGE_SIZE: String(4 * 1024 * 1024),
    WORK_DIR: workRoot,
    FETCH_TIMEOUT_MS: '5000',
    // The suite's image servers listen on loopback, which a processor refuses unless allowed.
    IMAGE_URL_ALLOWLIST: '127.0.0.1',
    ...overrides,
  });
  const running = await startProcessor(config, logger);
  return {
    address: `127.0.0.1:${running.grpcPort}`,
    maxImageBytes: config.maxImageBytes,
    local: running,
    stop: async () => {
      await running.stop(1000);
      fs.rmSync(workRoot, { recursive: true, force: true });
    },
  };
}
