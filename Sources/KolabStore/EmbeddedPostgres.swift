import Foundation
import Logging

public enum EmbeddedPostgresError: Error, CustomStringConvertible {
    case notInstalled
    case commandFailed(command: String, status: Int32, output: String)

    public var description: String {
        switch self {
        case .notInstalled:
            "PostgreSQL server programs (initdb, pg_ctl) were not found on PATH or under /usr/lib/postgresql/*/bin. "
                + "Install them with `apt-get install -y postgresql` (Debian/Ubuntu) or `brew install postgresql@16` "
                + "(macOS), or set DATABASE_URL to a running PostgreSQL 15+."
        case .commandFailed(let command, let status, let output):
            "`\(command)` failed with status \(status):\n\(output)"
        }
    }
}

/// A private PostgreSQL cluster in a folder of ours (`.kolab/` for `serve`, a temporary folder for
/// tests), run with the installed server programs. As root, the programs run as the `postgres` user,
/// since `initdb` refuses root.
public struct EmbeddedPostgres: Sendable {
    public let folder: URL
    public let port: Int
    public let superuser = "kolab"
    /// Settings for throwaway clusters (tests, benchmarks' scratch copies): durability off.
    public var extraSettings: [String]

    public init(folder: URL, port: Int, extraSettings: [String] = []) {
        self.folder = folder
        self.port = port
        self.extraSettings = extraSettings
    }

    var dataFolder: URL { folder.appendingPathComponent("data") }
    var socketFolder: URL { folder.appendingPathComponent("run") }
    var logFile: URL { folder.appendingPathComponent("postgres.log") }

    public var url: DatabaseURL {
        DatabaseURL(host: "127.0.0.1", port: port, username: superuser, password: nil, database: "postgres", sslMode: "disable")
    }

    /// Finds `initdb`/`pg_ctl`: PATH first, then the newest `/usr/lib/postgresql/N/bin`.
    public static func binFolder() throws -> URL {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for dir in path.split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(dir))
            if FileManager.default.isExecutableFile(atPath: candidate.appendingPathComponent("pg_ctl").path),
                FileManager.default.isExecutableFile(atPath: candidate.appendingPathComponent("initdb").path)
            {
                return candidate
            }
        }
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .compactMap(Int.init).sorted(by: >)
        for version in versions {
            let candidate = URL(fileURLWithPath: "\(root)/\(version)/bin")
            if FileManager.default.isExecutableFile(atPath: candidate.appendingPathComponent("pg_ctl").path) {
                return candidate
            }
        }
        throw EmbeddedPostgresError.notInstalled
    }

    /// Creates the cluster if needed and starts it unless it already runs. Returns whether it started it.
    @discardableResult
    public func start(logger: Logger) throws -> Bool {
        let bin = try Self.binFolder()
        let fm = FileManager.default
        try fm.createDirectory(at: socketFolder, withIntermediateDirectories: true)
        let asRoot = getuid() == 0
        if asRoot {
            try run(["/bin/chown", "-R", "postgres:postgres", folder.path], asPostgres: false)
        }
        if !fm.fileExists(atPath: dataFolder.appendingPathComponent("PG_VERSION").path) {
            logger.info("Creating a private PostgreSQL cluster", metadata: ["folder": "\(dataFolder.path)"])
            try run(
                [
                    bin.appendingPathComponent("initdb").path, "-D", dataFolder.path, "-U", superuser,
                    "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync",
                ], asPostgres: asRoot)
        }
        if (try? run([bin.appendingPathComponent("pg_ctl").path, "-D", dataFolder.path, "status"], asPostgres: asRoot)) != nil {
            logger.info("Private PostgreSQL cluster already running", metadata: ["port": "\(port)"])
            return false
        }
        var options = "-p \(port) -k \(socketFolder.path) -c listen_addresses=127.0.0.1 -c max_connections=300"
        for setting in extraSettings { options += " -c \(setting)" }
        try run(
            [
                bin.appendingPathComponent("pg_ctl").path, "-D", dataFolder.path, "-l", logFile.path,
                "-o", options, "-w", "-t", "60", "start",
            ], asPostgres: asRoot)
        return true
    }

    /// Stops the cluster (fast shutdown: sessions are ended, data is kept).
    public func stop() throws {
        let bin = try Self.binFolder()
        try run([bin.appendingPathComponent("pg_ctl").path, "-D", dataFolder.path, "-m", "fast", "-w", "stop"], asPostgres: getuid() == 0)
    }

    @discardableResult
    private func run(_ arguments: [String], asPostgres: Bool) throws -> String {
        let process = Process()
        if asPostgres {
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
            process.arguments = ["-u", "postgres", "--"] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: arguments[0])
            process.arguments = Array(arguments.dropFirst())
        }
        // Output goes to a file, not a pipe: the postmaster that `pg_ctl start` leaves running would
        // inherit the pipe and we would wait for an end of file that never comes.
        let outputFile = FileManager.default.temporaryDirectory.appendingPathComponent("kolab-pg-\(UUID().uuidString).out")
        FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: outputFile) }
        let handle = try FileHandle(forWritingTo: outputFile)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try? handle.close()
        let output = (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else {
            throw EmbeddedPostgresError.commandFailed(
                command: arguments.joined(separator: " "), status: process.terminationStatus, output: output)
        }
        return output
    }
}
