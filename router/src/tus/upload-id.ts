/** Where the tus endpoint is mounted: creation at `/files`, each upload at `/files/<upload_id>`. */
export const TUS_PATH = '/files';

/** An upload id, from POST /uploads or from tus creation: a UUID the router generated. */
export const UPLOAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The upload id that `named` gives: the id itself, or a tus upload's URL or path
 * (`http://host/files/<id>`, `/files/<id>`); undefined when it names none.
 */
export function namedUploadId(named: string): string | undefined {
  const id = /(?:^|\/files\/)([0-9a-f-]{36})\/?$/.exec(named.trim())?.[1];
  return id && UPLOAD_ID.test(id) ? id : undefined;
}
