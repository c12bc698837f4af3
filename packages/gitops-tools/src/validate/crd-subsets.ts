/**
 * Hand-written structural schemas (the subset of OpenAPI v3 that CRDs use) for the custom resources
 * that have no kubernetes-models package: the RabbitMQ cluster and messaging-topology operators
 * (rabbitmq.com) and the External Secrets Operator (external-secrets.io/v1). They cover the fields
 * this repository uses, written from the operators' CRD reference documentation; unknown fields
 * are rejected (closed objects) so a typo fails instead of being ignored by the operator.
 */
export interface Schema {
  readonly type?: "object" | "array" | "string" | "integer" | "number" | "boolean"
  readonly properties?: Readonly<Record<string, Schema>>
  readonly required?: ReadonlyArray<string>
  /** Open objects accept any key (embedded Kubernetes objects such as `override`). */
  readonly open?: boolean
  readonly additionalProperties?: Schema
  readonly items?: Schema
  readonly enum?: ReadonlyArray<string>
  readonly pattern?: string
  readonly intOrString?: boolean
}

const str: Schema = { type: "string" }
const int: Schema = { type: "integer" }
const bool: Schema = { type: "boolean" }
const quantity: Schema = { intOrString: true }
const strMap: Schema = { type: "object", additionalProperties: str }
const ref: Schema = { type: "object", properties: { name: str, namespace: str }, required: ["name"] }
const any: Schema = { type: "object", open: true }
const resources: Schema = {
  type: "object",
  properties: {
    requests: { type: "object", additionalProperties: quantity },
    limits: { type: "object", additionalProperties: quantity }
  }
}
const metadata: Schema = {
  type: "object",
  properties: { name: str, namespace: str, labels: strMap, annotations: strMap },
  required: ["name"]
}
const object = (spec: Schema): Schema => ({
  type: "object",
  properties: { apiVersion: str, kind: str, metadata, spec },
  required: ["apiVersion", "kind", "metadata", "spec"]
})
const closed = (properties: Record<string, Schema>, required: ReadonlyArray<string> = []): Schema => ({
  type: "object",
  properties,
  required
})

const clusterRef: Schema = closed({ name: str, namespace: str, connectionSecret: ref })

const remoteRef = closed(
  {
    key: str,
    property: str,
    version: str,
    metadataPolicy: { type: "string", enum: ["None", "Fetch"] },
    decodingStrategy: { type: "string", enum: ["None", "Base64", "Base64URL", "Auto"] },
    conversionStrategy: { type: "string", enum: ["Default", "Unicode"] }
  },
  ["key"]
)

export const crdSubsets: Readonly<Record<string, Schema>> = {
  "rabbitmq.com/v1beta1/RabbitmqCluster": object(
    closed({
      replicas: int,
      image: str,
      imagePullSecrets: { type: "array", items: ref },
      service: closed({
        type: { type: "string", enum: ["ClusterIP", "LoadBalancer", "NodePort"] },
        annotations: strMap
      }),
      persistence: closed({ storageClassName: str, storage: quantity }),
      resources,
      rabbitmq: closed({
        additionalPlugins: { type: "array", items: str },
        additionalConfig: str,
        advancedConfig: str,
        envConfig: str
      }),
      tls: closed({ secretName: str, caSecretName: str, disableNonTLSListeners: bool }),
      override: closed({ statefulSet: any, service: any }),
      secretBackend: any,
      terminationGracePeriodSeconds: int,
      delayStartSeconds: int,
      affinity: any,
      tolerations: { type: "array", items: any }
    })
  ),
  "rabbitmq.com/v1beta1/Vhost": object(
    closed(
      {
        name: str,
        tracing: bool,
        defaultQueueType: { type: "string", enum: ["quorum", "classic", "stream"] },
        tags: { type: "array", items: str },
        rabbitmqClusterReference: clusterRef,
        deletionPolicy: { type: "string", enum: ["delete", "retain"] }
      },
      ["name", "rabbitmqClusterReference"]
    )
  ),
  "rabbitmq.com/v1beta1/User": object(
    closed(
      {
        tags: {
          type: "array",
          items: { type: "string", enum: ["management", "policymaker", "monitoring", "administrator"] }
        },
        rabbitmqClusterReference: clusterRef,
        importCredentialsSecret: ref
      },
      ["rabbitmqClusterReference"]
    )
  ),
  "rabbitmq.com/v1beta1/Permission": object(
    closed(
      {
        vhost: str,
        user: str,
        userReference: ref,
        permissions: closed({ configure: str, write: str, read: str }),
        rabbitmqClusterReference: clusterRef
      },
      ["vhost", "permissions", "rabbitmqClusterReference"]
    )
  ),
  "external-secrets.io/v1/ExternalSecret": object(
    closed(
      {
        refreshInterval: { type: "string", pattern: "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$|^0$" },
        refreshPolicy: { type: "string", enum: ["CreatedOnce", "Periodic", "OnChange"] },
        secretStoreRef: closed({ name: str, kind: { type: "string", enum: ["SecretStore", "ClusterSecretStore"] } }, [
          "name"
        ]),
        target: closed({
          name: str,
          creationPolicy: { type: "string", enum: ["Owner", "Orphan", "Merge", "None"] },
          deletionPolicy: { type: "string", enum: ["Delete", "Merge", "Retain"] },
          immutable: bool,
          template: closed({
            type: str,
            engineVersion: { type: "string", enum: ["v2"] },
            mergePolicy: { type: "string", enum: ["Replace", "Merge"] },
            metadata: closed({ labels: strMap, annotations: strMap }),
            data: strMap
          })
        }),
        data: { type: "array", items: closed({ secretKey: str, remoteRef }, ["secretKey", "remoteRef"]) },
        dataFrom: { type: "array", items: any }
      },
      ["secretStoreRef"]
    )
  )
}

const typeOf = (value: unknown): string =>
  Array.isArray(value) ? "array" : value === null ? "null" : Number.isInteger(value) ? "integer" : typeof value

/** Violations of `value` against `schema`, each prefixed with its path. */
export const checkSubset = (schema: Schema, value: unknown, at: string): Array<string> => {
  const where = at || "/"
  if (schema.intOrString) {
    return typeof value === "string" || typeof value === "number" ? [] : [`${where} must be a string or a number`]
  }
  const actual = typeOf(value)
  if (schema.type) {
    const ok = schema.type === actual || (schema.type === "number" && actual === "integer")
    if (!ok) return [`${where} must be ${schema.type}, not ${actual}`]
  }
  const errors: Array<string> = []
  if (schema.enum && !schema.enum.includes(String(value)))
    errors.push(`${where} must be one of ${schema.enum.join(", ")}, not '${String(value)}'`)
  if (schema.pattern && typeof value === "string" && !new RegExp(schema.pattern).test(value))
    errors.push(`${where} '${value}' does not match ${schema.pattern}`)
  if (actual === "array" && schema.items)
    (value as Array<unknown>).forEach((item, i) => errors.push(...checkSubset(schema.items!, item, `${at}/${i}`)))
  if (actual === "object" && !schema.open) {
    const record = value as Record<string, unknown>
    for (const key of schema.required ?? []) if (!(key in record)) errors.push(`${at}/${key} is required`)
    for (const [key, item] of Object.entries(record)) {
      const sub = schema.properties?.[key] ?? schema.additionalProperties
      if (!sub) errors.push(`${at}/${key} is not a known field`)
      else errors.push(...checkSubset(sub, item, `${at}/${key}`))
    }
  }
  return errors
}
