import Foundation
import KolabDomain
import Logging
import NIOCore
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// The users of the API tokens this instance looked up lately, so that a request does not read its
/// token again (one round trip of two on the busiest reads; docs/architecture.md, "The token cache").
///
/// It is right only while it hears of every change: `ActorCacheListener` LISTENs on `kolab_auth`,
/// where triggers (`sql/0017_auth_change_notices.sql`) announce every change of a live API token
/// (revoked, expiry moved, deleted) and of a user's role or brand, at commit, whoever makes it. While
/// no listener is connected the cache answers nothing and keeps nothing. A lookup that began before a
/// notice arrived may not store what it read (`generation`), so a notice is never undone by a read
/// that raced it. Expiry is checked on every hit; an entry also goes after `maximumAge`, and the
/// cache starts again empty when it holds `capacity` entries. Misses are never kept.
public final class ActorCache: Sendable {
    public static let channel = "kolab_auth"

    struct Entry {
        var actor: Actor
        var expiresAt: Date
        var storedAt: ContinuousClock.Instant
    }

    struct State {
        var listening = false
        /// Moves on every notice and every change of `listening`.
        var generation: UInt64 = 0
        var entries: [ByteBuffer: Entry] = [:]
    }

    private let state = Mutex(State())
    let maximumAge: Duration
    let capacity: Int

    public init(maximumAge: Duration = .seconds(60), capacity: Int = 100_000) {
        self.maximumAge = maximumAge
        self.capacity = capacity
    }

    /// The user of the token with this hash, if it is kept and has not expired.
    public func actor(forTokenHash hash: ByteBuffer, now: Date) -> Actor? {
        let clock = ContinuousClock.now
        return state.withLock { state in
            guard state.listening, let entry = state.entries[hash] else { return nil }
            guard entry.expiresAt > now, entry.storedAt.duration(to: clock) < maximumAge else {
                state.entries[hash] = nil
                return nil
            }
            return entry.actor
        }
    }

    /// Taken before a lookup in the database; nil when nothing may be kept (no listener).
    public func generation() -> UInt64? {
        state.withLock { $0.listening ? $0.generation : nil }
    }

    /// Keeps what a lookup read, unless a notice (or a lost listener) came since `generation`.
    public func keep(_ actor: Actor, expiresAt: Date, forTokenHash hash: ByteBuffer, generation: UInt64) {
        let now = ContinuousClock.now
        state.withLock { state in
            guard state.listening, state.generation == generation else { return }
            if state.entries.count >= capacity { state.entries.removeAll(keepingCapacity: true) }
            state.entries[hash] = Entry(actor: actor, expiresAt: expiresAt, storedAt: now)
        }
    }

    /// A notice: the token with this hash changed (nil: anything may have changed).
    public func forget(tokenHash hash: ByteBuffer?) {
        state.withLock { state in
            state.generation &+= 1
            if let hash { state.entries[hash] = nil } else { state.entries.removeAll(keepingCapacity: true) }
        }
    }

    /// Whether a listener is connected; either way the cache starts again empty.
    public func setListening(_ listening: Bool) {
        state.withLock { state in
            state.generation &+= 1
            state.listening = listening
            state.entries.removeAll()
        }
    }

    public var isListening: Bool { state.withLock { $0.listening } }
    public var count: Int { state.withLock { $0.entries.count } }

    /// A notice's payload: a token hash in hex, or `*` for everything.
    public func receive(notice payload: String) {
        forget(tokenHash: Self.tokenHash(hex: payload))
    }

    static func tokenHash(hex: String) -> ByteBuffer? {
        let digits = Array(hex.utf8)
        guard digits.count == 64 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        var index = 0
        while index < 64 {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return ByteBuffer(bytes: bytes)
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}

/// Keeps an `ActorCache` told of every change: LISTEN on a connection of its own; while it is not
/// connected the cache is off, and a lost connection is replaced after a pause.
public struct ActorCacheListener: Service {
    let database: Database
    let cache: ActorCache
    let logger: Logger

    public init(database: Database, cache: ActorCache, logger: Logger) {
        self.database = database
        self.cache = cache
        self.logger = logger
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            // The pool's run() starts in a task of DatabaseSupervisor; leasing before it has started works
            // but warns. The cache is simply off for these first moments.
            try await Task.sleep(for: .milliseconds(200))
            while !Task.isCancelled {
                do {
                    try await database.client.withConnection { connection in
                        try await connection.listen(on: ActorCache.channel) { notices in
                            // LISTEN is in effect from here: what changes later is announced.
                            cache.setListening(true)
                            defer { cache.setListening(false) }
                            for try await notice in notices { cache.receive(notice: notice.payload) }
                        }
                    }
                } catch {
                    cache.setListening(false)
                    if Task.isCancelled { return }
                    logger.debug(
                        "Token cache: listen connection lost", metadata: ["error": "\(KolabError.loggable(Database.unwrap(error)))"])
                }
                try await Task.sleep(for: .seconds(1))
            }
        }
        cache.setListening(false)
    }
}
