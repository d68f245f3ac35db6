namespace Slipway.GerritStandIn.Samples;

/// <summary>
/// The demo's sample service: a small HTTP service in Python with Blubber test and production
/// variants and an OpenAPI spec whose <c>x-amples</c> the smoke test follows (the
/// service-checker contract of the seeds).
/// </summary>
public static class SampleProject
{
    public const string Name = "demo/hello-service";

    /// <summary>The service's chart (the project's last path segment, so the project owns it).</summary>
    public const string Chart = "hello-service";

    /// <summary>
    /// A PipelineLib <c>.pipeline/config.yaml</c> shaped as real Wikimedia services write it (citoid, mathoid,
    /// example-node-api): a <c>test</c> pipeline for patch sets, and a <c>publish</c> pipeline that, after merge,
    /// publishes the production image and promotes it to the service's chart for the listed environments.
    /// </summary>
    public const string PipelineConfig = $"""
        pipelines:
          test:
            blubberfile: blubber.yaml
            stages:
              - name: test
              - name: candidate
                build: production
          publish:
            blubberfile: blubber.yaml
            stages:
              - name: production
                build: production
                publish:
                  image: true
                promote:
                  - chart: {Chart}
                    environments: [staging, production]
        """;

    /// <summary>The repository once the team adopted <see cref="PipelineConfig"/>: <see cref="Files"/> plus <c>.pipeline/config.yaml</c>.</summary>
    public static IReadOnlyDictionary<string, string?> FilesWithPipelineConfig(string baseImage) =>
        new Dictionary<string, string?>(Files(baseImage)) { [".pipeline/config.yaml"] = PipelineConfig + "\n" };

    /// <summary>The repository's files. A <paramref name="greeting"/> other than "Hello" breaks the unit test and the x-amples.</summary>
    public static IReadOnlyDictionary<string, string?> Files(string baseImage, string greeting = "Hello") => new Dictionary<string, string?>
    {
        [".pipeline/blubber.yaml"] = $"""
            version: v4
            base: {baseImage}
            apt:
              packages: [python3]
            lives:
              in: /srv/service
            runs:
              environment:
                PORT: "8080"
            variants:
              test:
                copies: [local]
                entrypoint: [python3, -m, unittest, -v, test_server]
              production:
                copies: [local]
                entrypoint: [python3, server.py]
            """,
        ["server.py"] = """
            import http.server, json, os

            SPEC = open(os.path.join(os.path.dirname(__file__), "spec.json")).read()

            class Handler(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    if self.path == "/?spec":
                        self.reply(200, SPEC)
                    elif self.path == "/_info":
                        self.reply(200, json.dumps({"name": "hello-service", "version": "1.0.0"}))
                    elif self.path.startswith("/hello/"):
                        self.reply(200, json.dumps({"greeting": "GREETING, " + self.path[len("/hello/"):] + "!"}))
                    else:
                        self.reply(404, json.dumps({"error": "not found"}))

                def reply(self, status, body):
                    data = body.encode()
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)

            if __name__ == "__main__":
                http.server.HTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8080"))), Handler).serve_forever()
            """.Replace("GREETING", greeting),
        ["test_server.py"] = """
            import json, threading, unittest, urllib.request, http.server
            import server

            class HelloTest(unittest.TestCase):
                def test_hello(self):
                    httpd = http.server.HTTPServer(("127.0.0.1", 0), server.Handler)
                    threading.Thread(target=httpd.serve_forever, daemon=True).start()
                    url = "http://127.0.0.1:%d/hello/world" % httpd.server_port
                    self.assertEqual(json.load(urllib.request.urlopen(url)), {"greeting": "Hello, world!"})
                    httpd.shutdown()

            if __name__ == "__main__":
                unittest.main()
            """,
        ["spec.json"] = """
            {
              "openapi": "3.0.0",
              "info": {"title": "hello-service", "version": "1.0.0"},
              "paths": {
                "/hello/{name}": {
                  "get": {
                    "x-amples": [{
                      "title": "greets by name",
                      "request": {"params": {"name": "world"}},
                      "response": {"status": 200, "headers": {"content-type": "application/json"},
                                   "body": {"greeting": "Hello, world!"}}
                    }]
                  }
                }
              }
            }
            """,
    };
}
