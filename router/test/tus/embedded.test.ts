import { describeWithRedis } from '../queue/redis';
import { startEmbedded } from '../storage/stores';
import { tusSuite } from './suite';

/** Resumable uploads on the embedded store of `make up` (s3rver, with the multipart listing it lacked). */
describeWithRedis('resumable uploads (tus) on the embedded store', () => {
  tusSuite(() => startEmbedded('artorizer-tus'));
});
