import { adapt, list, s3ConnectionSettings, section } from '@artorizer/service-kit';

const connection = s3ConnectionSettings.settings;

/** The object store as the processor uses it: S3 references are read from it, artifacts written to it. */
export const storeSettings = section('Object store', {
  ...connection,
  endpoint: adapt(connection.endpoint, {
    meaning: 'S3-compatible endpoint (unset: AWS S3); setting it or `S3_BUCKET` configures the object store: S3 references are read from it, artifacts written to `S3_BUCKET` under `jobs/<id>/`',
  }),
  s3ReferencePrefixes: list({
    name: 'S3_REFERENCE_PREFIXES',
    default: ['uploads/'],
    meaning:
      "key prefixes an S3 reference may name, in `S3_BUCKET` only (`INVALID_ARGUMENT` otherwise): the referenced object is offered back as the job's `original` download, so no other key may be named; the default is where the router writes uploads",
  }),
});
