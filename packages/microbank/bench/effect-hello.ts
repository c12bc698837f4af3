/**
 * The floor of the gateway's HTTP stack, for `npm run bench:http`: effect/http on
 * @effect/platform-node with one route and nothing else (no middleware, no request log), on PORT.
 */
import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Layer } from "effect"
import { HttpRouter, HttpServerResponse } from "effect/http"
import { createServer } from "node:http"

const hello = HttpRouter.add("GET", "/", HttpServerResponse.jsonUnsafe({ status: "ok" }))

HttpRouter.serve(hello, { disableLogger: true, disableListenLog: true }).pipe(
  Layer.provide(NodeHttpServer.layer(createServer, { port: Number(process.env.PORT), host: "127.0.0.1" })),
  Layer.launch,
  NodeRuntime.runMain
)
