// A small schema language for the PeriodicTask resource. One tree of these nodes is both turned into the CRD's
// OpenAPI schema (with CEL rules) and interpreted by the runtime validator, so the two cannot drift apart.

/**
 * A CEL rule of the CRD together with the same predicate in TypeScript. The generator emits `rule`; the
 * validator runs `holds`. A test applies manifests to a real API server to prove each pair agrees.
 */
export interface Rule<T> {
  rule: string;
  message: string;
  /** Relative path (".every") of the field the API server should name; absent means the node itself. */
  fieldPath?: string;
  holds: (self: T) => boolean;
}

interface NodeBase {
  description: string;
}

export interface StringNode extends NodeBase {
  kind: 'string';
  enum?: readonly string[];
  default?: string;
  minLength?: number;
  maxLength: number;
  rules?: readonly Rule<string>[];
}

export interface IntegerNode extends NodeBase {
  kind: 'integer';
  format: 'int32' | 'int64';
  minimum?: number;
  maximum?: number;
}

export interface NumberNode extends NodeBase {
  kind: 'number';
  minimum?: number;
  /** Strict lower bound: the value must be greater than this. */
  exclusiveMinimum?: number;
  maximum?: number;
}

export interface BooleanNode extends NodeBase {
  kind: 'boolean';
  default?: boolean;
}

export interface ObjectNode extends NodeBase {
  kind: 'object';
  properties: Readonly<Record<string, SchemaNode>>;
  required?: readonly string[];
  rules?: readonly Rule<Readonly<Record<string, unknown>>>[];
}

/** A JSON object whose keys and values are the user's (kwargs, headers). */
export interface FreeObjectNode extends NodeBase {
  kind: 'freeObject';
}

export interface ArrayNode extends NodeBase {
  kind: 'array';
  items: SchemaNode;
  maxItems?: number;
  /** A list keyed by one field (Kubernetes "map" list type), such as conditions keyed by type. */
  mapKey?: string;
}

/** Any JSON value (an element of args). */
export interface AnyNode extends NodeBase {
  kind: 'any';
}

export type SchemaNode =
  | StringNode
  | IntegerNode
  | NumberNode
  | BooleanNode
  | ObjectNode
  | FreeObjectNode
  | ArrayNode
  | AnyNode;
