import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ContractTarget, externalTarget } from '@artorizer/testkit';
import { startProcessor, RunningProcessor } from '../../src/app';
import { loadConfig } from '../../src/config';
import { logger } from '../../src/logger';

/**
 * The processor under test. With CONTRACT_PROCESSOR_ADDR=host:port the suite runs against
 * that processor (see `externalTarget` in @artorizer/testkit); otherwise it starts the
 * reference processor in-process on free ports.
 */
export interface Target extends ContractTarget {
  /** Set only for the in-process reference processor: lets tests look inside (`workDir` is its own folder). */
  local?: RunningProcessor;
}

export async function startTarget(overrides: Record<string, string> = {}): Promise<Target> {
  const external = externalTarget();
  if (external) return external;
  const workRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'artorizer-contract-'));
  const config = loadConfig({
    HOST: '127.0.0.1',
    GRPC_PORT: '0',
    HTTP_PORT: '0',
    MAX_FILE_SIZE: String(4 * 1024 * 1024),
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
    inside: {
      incomingFiles: () => fs.readdirSync(path.join(running.workDir, 'incoming')),
      jobFilesExist: (jobId) => fs.existsSync(path.join(running.workDir, 'jobs', jobId)),
    },
    keepsJpeg: true,
    stop: async () => {
      await running.stop(1000);
      fs.rmSync(workRoot, { recursive: true, force: true });
    },
  };
}
