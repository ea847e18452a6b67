import KolabStore
import NIOCore
import Synchronization

/// The JSON of campaigns this process has written, keyed by the campaign's `CampaignRevision`.
///
/// A page of the campaign list is mostly the same fifty campaigns for every KOL; decoding their 27
/// columns and writing their JSON was half of the service's CPU on that page. A revision names one
/// state of everything in a campaign's representation (every UPDATE of the row moves it in the
/// database; the published brief version is part of the key), so an entry is never stale: a changed
/// campaign arrives with a new key and misses. Only reads outside a transaction use it (a transaction
/// could see a revision it later rolls back, and the number would be reused by the next change).
/// Bounded: when full it starts again empty, so old revisions cannot pile up.
final class CampaignJSONCache: Sendable {
    private let entries = Mutex<[CampaignRevision: [UInt8]]>([:])
    let capacity: Int

    init(capacity: Int = 4096) {
        self.capacity = capacity
    }

    func json(of revision: CampaignRevision) -> [UInt8]? {
        entries.withLock { $0[revision] }
    }

    /// Writes `campaign`'s JSON and keeps it under its revision.
    func write(_ campaign: CampaignRecord) -> [UInt8] {
        let bytes = Self.json(of: campaign)
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[campaign.revision] = bytes
        }
        return bytes
    }

    /// A campaign's JSON, as the list writes it.
    static func json(of campaign: CampaignRecord) -> [UInt8] {
        Array(StreamingJSONEncoder().encode(writable: CampaignResponse(campaign)).readableBytesView)
    }
}

/// JSON written before: copied into the document as it is.
struct WrittenJSON: JSONWritable, Sendable {
    var bytes: [UInt8]

    func writeJSON(to writer: JSONStreamWriter) {
        writer.buffer.writeBytes(bytes)
    }
}
