/** Where results go: stdout, one line of text or one JSON object per file or command. */
export interface Output {
  readonly json: boolean;
  /** A result: `text` for people, `data` for --json. */
  result(text: string | undefined, data: Record<string, unknown>): void;
}

export function createOutput(json: boolean): Output {
  return {
    json,
    result(text, data) {
      if (json) process.stdout.write(`${JSON.stringify(data)}\n`);
      else if (text !== undefined) process.stdout.write(`${text}\n`);
    },
  };
}

/** A JSON error object for --json results. */
export function errorData(err: { message: string; exitCode: number; details?: { status?: number; field?: string } }): Record<string, unknown> {
  return { message: err.message, exit_code: err.exitCode, http_status: err.details?.status, field: err.details?.field };
}
