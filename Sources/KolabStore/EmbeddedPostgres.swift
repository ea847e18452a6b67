import Foundation
import Logging

public enum EmbeddedPostgresError: Error, CustomStringConvertible {
    case notInstalled
    case commandFailed(command: String, status: Int32, output: String)
    case portInUse(Int)
    case unreachableFolder(String)

    public var description: String {
        switch self {
        case .notInstalled:
            "PostgreSQL server programs (initdb, pg_ctl) were not found on PATH or under /usr/lib/postgresql/*/bin. "
                + "Install them with `apt-get install -y postgresql` (Debian/Ubuntu) or `brew install postgresql@16` "
                + "(macOS), or set DATABASE_URL to a running PostgreSQL 15+."
        case .commandFailed(let command, let status, let output):
            "`\(command)` failed with status \(status):\n\(output)"
        case .portInUse(let port):
            "Port \(port) for the private PostgreSQL is taken by another program; choose a free one with KOLAB_PG_PORT=<port>."
        case .unreachableFolder(let path):
            "The postgres user cannot reach \(path) (a folder above it, such as /root, is closed to other users), so the "
                + "private PostgreSQL cannot live there. Clone the repository under a folder others can enter (e.g. /srv/kolab), "
                + "or set DATABASE_URL to a PostgreSQL of your own."
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
            // initdb as postgres would fail with a cryptic "permission denied" when a parent folder is closed.
            guard (try? run(["/usr/bin/test", "-w", folder.path], asPostgres: true)) != nil else {
                throw EmbeddedPostgresError.unreachableFolder(folder.path)
            }
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
        guard Self.portIsFree(port) else { throw EmbeddedPostgresError.portInUse(port) }
        var options = "-p \(port) -k \(socketFolder.path) -c listen_addresses=127.0.0.1 -c max_connections=300"
        for setting in extraSettings { options += " -c \(setting)" }
        try run(
            [
                bin.appendingPathComponent("pg_ctl").path, "-D", dataFolder.path, "-l", logFile.path,
                "-o", options, "-w", "-t", "60", "start",
            ], asPostgres: asRoot)
        return true
    }

    /// Whether nothing listens on 127.0.0.1:`port` (a bind succeeds).
    public static func portIsFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return true }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return bound == 0
    }

    /// Stops the cluster (fast shutdown: sessions are ended, data is kept).
    public func stop() throws {
        let bin = try Self.binFolder()
        try run([bin.appendingPathComponent("pg_ctl").path, "-D", dataFolder.path, "-m", "fast", "-w", "stop"], asPostgres: getuid() == 0)
    }

    @discardableResult
    private func run(_ arguments: [String], asPostgres: Bool) throws -> String {
        let argv = asPostgres ? ["/usr/sbin/runuser", "-u", "postgres", "--"] + arguments : arguments
        let (status, output) = try Subprocess.run(argv)
        guard status == 0 else {
            throw EmbeddedPostgresError.commandFailed(command: arguments.joined(separator: " "), status: status, output: output)
        }
        return output
    }
}

/// Runs a program to completion with posix_spawn and waitpid. Foundation's `Process` can miss the
/// exit of a child in some hosts (test runners), and then `waitUntilExit` never returns.
enum Subprocess {
    static func run(_ argv: [String]) throws -> (status: Int32, output: String) {
        // Output goes to a file, not a pipe: the postmaster that `pg_ctl start` leaves running would
        // inherit a pipe and the reader would wait for an end of file that never comes.
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("kolab-cmd-\(UUID().uuidString).out").path
        defer { try? FileManager.default.removeItem(atPath: outputPath) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        let cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, argv[0], &actions, nil, cArgs, environ)
        guard spawned == 0 else {
            throw EmbeddedPostgresError.commandFailed(
                command: argv.joined(separator: " "), status: spawned, output: String(cString: strerror(spawned)))
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        // WIFEXITED / WEXITSTATUS, spelled out (the C macros are not imported).
        let exited = (status & 0x7f) == 0
        return (exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), output)
    }
}
