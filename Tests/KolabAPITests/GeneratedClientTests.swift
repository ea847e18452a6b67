import Foundation
import Testing

/// openapi.json is meant to generate clients people can use: `scripts/python-client` generates one with
/// openapi-python-client (any generator warning fails it) and runs a short flow with nothing but the
/// generated code against a real server with the demo data.
@Suite("The Python client generated from openapi.json")
struct GeneratedClientTests {
    @Test func theGeneratedPythonClientSignsInAndCreatesACampaign() async throws {
        try await LiveDemo.run { port in
            // The first run installs the generator with pip into .build/venv-client; later runs reuse it.
            let (status, text) = try await LiveDemo.bash(["scripts/python-client", "http://127.0.0.1:\(port)"], in: repositoryRoot)
            #expect(status == 0, "scripts/python-client failed:\n\(text.suffix(4000))")
            #expect(text.contains("listed campaigns:"), "the new campaign was found in the list")
            #expect(text.contains("PYTHON CLIENT FLOW DONE"))
        }
    }
}
