/**
 * The processor a contract suite runs against: any implementation of artorizer.v1, in-process
 * or at an address.
 */
export interface ContractTarget {
  /** host:port of its gRPC service (plaintext). */
  address: string;
  /** Its image size limit: the suite checks that one byte more is refused. */
  maxImageBytes: number;
  /**
   * Set for a processor the tests can look inside (the in-process reference processor): the
   * suite then also checks that an upload given up leaves no file behind and a cancelled job
   * no folder.
   */
  inside?: {
    /** The files of uploads in progress. */
    incomingFiles(): string[];
    /** Whether the job still has files of its own. */
    jobFilesExist(jobId: string): boolean;
  };
  /**
   * Set to check the reference processor's choice beyond the contract: a JPEG stays a JPEG
   * when its marks survive that (see docs/reference-processor.md).
   */
  keepsJpeg?: boolean;
  stop(): Promise<void>;
}

/** `CONTRACT_PROCESSOR_ADDR`: host:port of a running processor to check instead of one started in-process. */
export const EXTERNAL_ADDR = process.env.CONTRACT_PROCESSOR_ADDR;

/**
 * The processor at CONTRACT_PROCESSOR_ADDR (CONTRACT_MAX_IMAGE_SIZE tells its size limit,
 * default 256 MiB; stopping it is left to whoever runs it); undefined when that is not set.
 */
export function externalTarget(): ContractTarget | undefined {
  if (!EXTERNAL_ADDR) return undefined;
  return {
    address: EXTERNAL_ADDR,
    maxImageBytes: Number(process.env.CONTRACT_MAX_IMAGE_SIZE ?? 256 * 1024 * 1024),
    stop: async () => undefined,
  };
}
