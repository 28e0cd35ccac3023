import { describeWithRgw, startRgw } from './stores';
import { storageSuite } from './suite';

/*
 * The same storage suite on a real S3 engine (Ceph RGW), which checks what s3rver cannot:
 * signatures, multipart state, policies. Absent here: a printed reason locally, a failure in CI.
 */
describeWithRgw('storage suite on Ceph RGW', () => {
  storageSuite(() => startRgw(), { strict: true });
});
