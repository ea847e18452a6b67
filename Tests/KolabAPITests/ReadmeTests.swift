import Foundation
import Testing

/// The README is a promise to the first person who runs it: its walk-through, run as written against
/// a real server with the demo data, must succeed at every step.
@Suite("The README's walk-through")
struct ReadmeTests {
    /// The fenced `sh` blocks from "## Walk-through" up to the next top-level section.
    static func walkThrough() throws -> String {
        let readme = try String(contentsOf: repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        guard let start = readme.range(of: "## Walk-through") else { return "" }
        let rest = readme[start.upperBound...]
        let section = rest.range(of: "\n## ").map { rest[..<$0.lowerBound] } ?? rest
        var blocks: [String] = []
        var inBlock = false
        var current: [Substring] = []
        for line in section.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```sh") {
                inBlock = true
                current = []
            } else if line.hasPrefix("```") && inBlock {
                inBlock = false
                blocks.append(current.joined(separator: "\n"))
            } else if inBlock {
                current.append(line)
            }
        }
        return blocks.joined(separator: "\n")
    }

    @Test func everyStepOfTheWalkThroughSucceedsAgainstARealServer() async throws {
        let steps = try Self.walkThrough()
        #expect(steps.components(separatedBy: "curl ").count > 40, "the walk-through was found")
        try await LiveDemo.run { port in
            // Every request must succeed (`--fail-with-body`), and any failing step stops the script.
            let script = """
                set -euo pipefail
                curl() { command curl --fail-with-body --show-error "$@"; }
                \(steps.replacingOccurrences(of: "localhost:8080", with: "localhost:\(port)"))
                echo "WALK-THROUGH DONE"
                """
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kolab-readme-\(UUID())")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let (status, text) = try await LiveDemo.bash(["-c", script], in: folder)
            #expect(status == 0, "the walk-through stopped:\n\(text.suffix(3000))")
            #expect(text.contains("WALK-THROUGH DONE"))
            #expect(text.contains("Idempotent-Replayed: true") || text.contains("idempotent-replayed: true"))
            #expect(text.contains("\"paid_count\":1"), "the payout was settled")
        }
    }

    /// Links in the README point at files of the repository (a fresh clone has nothing else).
    @Test func theReadmeLinksOnlyToFilesInTheRepository() throws {
        let readme = try String(contentsOf: repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let links = readme.matches(of: /\]\(([^)\s]+)\)/).map { String($0.1) }
        for link in links where !link.hasPrefix("#") {
            #expect(!link.hasPrefix("http") && !link.hasPrefix("../"), "\(link) leaves the repository")
            let path = String(link.split(separator: "#").first ?? "")
            #expect(FileManager.default.fileExists(atPath: repositoryRoot.appendingPathComponent(path).path), "\(link) does not exist")
        }
    }
}
