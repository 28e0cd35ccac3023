import { MethodDefinition, Server, ServerDuplexStream, ServiceDefinition, status as GrpcStatus } from '@grpc/grpc-js';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { BinaryReader, BinaryWriter } from '@bufbuild/protobuf/wire';
import { DescriptorProto, FileDescriptorProto, FileDescriptorProtoSchema, FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';

/*
 * gRPC server reflection (v1 and v1alpha) answered from the FileDescriptorSet that
 * `buf build` writes, so every file, including google/protobuf/*.proto imports, is served
 * exactly as compiled. @grpc/reflection rebuilds files from proto-loader's view and loses
 * the well-known-type imports, which breaks `buf curl` and grpcurl (NOTES.md).
 */

type ReflectionRequest =
  | { kind: 'fileByFilename'; value: string }
  | { kind: 'fileContainingSymbol'; value: string }
  | { kind: 'fileContainingExtension'; value: string; extension: number }
  | { kind: 'allExtensionNumbersOfType'; value: string }
  | { kind: 'listServices'; value: string }
  | { kind: 'unknown'; value: string };

interface DecodedRequest {
  host: string;
  request: ReflectionRequest;
  raw: Uint8Array;
}

type ReflectionAnswer = { files: Uint8Array[] } | { services: string[] } | { extensionsOf: string; numbers: number[] } | { error: { code: GrpcStatus; message: string } };

function decodeRequest(bytes: Buffer): DecodedRequest {
  const reader = new BinaryReader(bytes);
  let host = '';
  let request: ReflectionRequest = { kind: 'unknown', value: '' };
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    switch (field) {
      case 1:
        host = reader.string();
        break;
      case 3:
        request = { kind: 'fileByFilename', value: reader.string() };
        break;
      case 4:
        request = { kind: 'fileContainingSymbol', value: reader.string() };
        break;
      case 5: {
        const inner = new BinaryReader(reader.bytes());
        let type = '';
        let extension = 0;
        while (inner.pos < inner.len) {
          const [f, w] = inner.tag();
          if (f === 1) type = inner.string();
          else if (f === 2) extension = inner.int32();
          else inner.skip(w);
        }
        request = { kind: 'fileContainingExtension', value: type, extension };
        break;
      }
      case 6:
        request = { kind: 'allExtensionNumbersOfType', value: reader.string() };
        break;
      case 7:
        request = { kind: 'listServices', value: reader.string() };
        break;
      default:
        reader.skip(wireType);
    }
  }
  return { host, request, raw: bytes };
}

function encodeResponse(req: DecodedRequest, answer: ReflectionAnswer): Buffer {
  const w = new BinaryWriter();
  w.uint32((1 << 3) | 2).string(req.host);
  w.uint32((2 << 3) | 2).bytes(req.raw);
  if ('files' in answer) {
    w.uint32((4 << 3) | 2).fork();
    for (const file of answer.files) w.uint32((1 << 3) | 2).bytes(file);
    w.join();
  } else if ('services' in answer) {
    w.uint32((6 << 3) | 2).fork();
    for (const name of answer.services)
      w.uint32((1 << 3) | 2)
        .fork()
        .uint32((1 << 3) | 2)
        .string(name)
        .join();
    w.join();
  } else if ('numbers' in answer) {
    w.uint32((5 << 3) | 2)
      .fork()
      .uint32((1 << 3) | 2)
      .string(answer.extensionsOf);
    for (const n of answer.numbers) w.uint32((2 << 3) | 0).int32(n);
    w.join();
  } else {
    w.uint32((7 << 3) | 2)
      .fork()
      .uint32((1 << 3) | 0)
      .int32(answer.error.code)
      .uint32((2 << 3) | 2)
      .string(answer.error.message)
      .join();
  }
  return Buffer.from(w.finish());
}

/** Index of the compiled files: by name, by fully-qualified symbol, and their services. */
class DescriptorIndex {
  private readonly files = new Map<string, FileDescriptorProto>();
  private readonly encoded = new Map<string, Uint8Array>();
  private readonly symbols = new Map<string, string>();
  private readonly extensions = new Map<string, Map<number, string>>();
  readonly services: string[] = [];

  constructor(descriptorSets: Uint8Array[]) {
    for (const set of descriptorSets) {
      for (const file of fromBinary(FileDescriptorSetSchema, set).file) this.add(file);
    }
  }

  private add(file: FileDescriptorProto): void {
    if (this.files.has(file.name)) return;
    this.files.set(file.name, file);
    this.encoded.set(file.name, toBinary(FileDescriptorProtoSchema, file));
    const prefix = file.package ? `${file.package}.` : '';
    const addMessage = (message: DescriptorProto, scope: string) => {
      const name = `${scope}${message.name}`;
      this.symbols.set(name, file.name);
      for (const nested of message.nestedType) addMessage(nested, `${name}.`);
      for (const e of message.enumType) this.symbols.set(`${name}.${e.name}`, file.name);
    };
    for (const message of file.messageType) addMessage(message, prefix);
    for (const e of file.enumType) this.symbols.set(`${prefix}${e.name}`, file.name);
    for (const service of file.service) {
      const name = `${prefix}${service.name}`;
      this.symbols.set(name, file.name);
      this.services.push(name);
      for (const method of service.method) this.symbols.set(`${name}.${method.name}`, file.name);
    }
    for (const ext of file.extension) {
      const extendee = ext.extendee.replace(/^\./, '');
      const byNumber = this.extensions.get(extendee) ?? new Map<number, string>();
      byNumber.set(ext.number, file.name);
      this.extensions.set(extendee, byNumber);
    }
  }

  /** The file and everything it imports, transitively, the file first. */
  private withDependencies(name: string): Uint8Array[] {
    const seen = new Set<string>();
    const visit = (n: string) => {
      if (seen.has(n) || !this.files.has(n)) return;
      seen.add(n);
      for (const dep of this.files.get(n)!.dependency) visit(dep);
    };
    visit(name);
    return [...seen].map((n) => this.encoded.get(n)!);
  }

  answer(request: ReflectionRequest): ReflectionAnswer {
    const notFound = (what: string): ReflectionAnswer => ({ error: { code: GrpcStatus.NOT_FOUND, message: `${what} not found` } });
    switch (request.kind) {
      case 'listServices':
        return { services: this.services };
      case 'fileByFilename':
        return this.files.has(request.value) ? { files: this.withDependencies(request.value) } : notFound(`file ${request.value}`);
      case 'fileContainingSymbol': {
        const file = this.symbols.get(request.value.replace(/^\./, ''));
        return file ? { files: this.withDependencies(file) } : notFound(`symbol ${request.value}`);
      }
      case 'fileContainingExtension': {
        const file = this.extensions.get(request.value)?.get(request.extension);
        return file ? { files: this.withDependencies(file) } : notFound(`extension ${request.extension} of ${request.value}`);
      }
      case 'allExtensionNumbersOfType':
        return this.symbols.has(request.value) ? { extensionsOf: request.value, numbers: [...(this.extensions.get(request.value)?.keys() ?? [])] } : notFound(`type ${request.value}`);
      default:
        return { error: { code: GrpcStatus.UNIMPLEMENTED, message: 'unsupported reflection request' } };
    }
  }
}

function definitionFor(pkg: string): ServiceDefinition {
  const method: MethodDefinition<DecodedRequest, Buffer> = {
    path: `/${pkg}.ServerReflection/ServerReflectionInfo`,
    requestStream: true,
    responseStream: true,
    requestSerialize: (value) => Buffer.from(value.raw),
    requestDeserialize: decodeRequest,
    responseSerialize: (value) => value,
    responseDeserialize: (value) => value,
  };
  return { ServerReflectionInfo: method };
}

/** Adds grpc.reflection.v1 and v1alpha, answering from the given FileDescriptorSets. */
export function addReflection(server: Server, descriptorSets: Uint8Array[]): string[] {
  const index = new DescriptorIndex(descriptorSets);
  const handler = (call: ServerDuplexStream<DecodedRequest, Buffer>) => {
    call.on('data', (req: DecodedRequest) => call.write(encodeResponse(req, index.answer(req.request))));
    call.on('end', () => call.end());
  };
  for (const pkg of ['grpc.reflection.v1', 'grpc.reflection.v1alpha']) {
    server.addService(definitionFor(pkg), { ServerReflectionInfo: handler });
  }
  return index.services;
}
