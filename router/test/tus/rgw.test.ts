import { describeWithRedis } from '../queue/redis';
import { describeWithRgw, startRgw } from '../storage/stores';
import { tusSuite } from './suite';

/* The same resumable-upload suite on a real S3 engine (Ceph RGW): real multipart state and aborts. */
describeWithRgw('resumable uploads (tus) on Ceph RGW', () => {
  describeWithRedis('with Redis', () => {
    tusSuite(() => startRgw('artorizer-tus'));
  });
});
