import Foundation

/// What a reviewer checks in a caption (DESIGN.md, "Web console", brand): what changed since the
/// previous version, and whether the brief's hashtags and mentions are there.
public enum CaptionReview {
    /// One run of words in a side-by-side comparison.
    public struct Segment: Sendable, Equatable {
        public enum Kind: String, Sendable { case same, removed, added }
        public var kind: Kind
        public var text: String

        public init(_ kind: Kind, _ text: String) {
            self.kind = kind
            self.text = text
        }
    }

    /// The previous caption with its removed words marked, and the current one with its added words
    /// marked. Words are compared whole (whitespace separates them and is kept with the word before);
    /// Swift's `CollectionDifference` finds the changes.
    public static func compare(previous: String, current: String) -> (previous: [Segment], current: [Segment]) {
        let old = words(previous)
        let new = words(current)
        let difference = new.map(\.word).difference(from: old.map(\.word))
        var removed = Set<Int>()
        var inserted = Set<Int>()
        for change in difference {
            switch change {
            case .remove(let offset, _, _): removed.insert(offset)
            case .insert(let offset, _, _): inserted.insert(offset)
            }
        }
        return (segments(old, marked: removed, as: .removed), segments(new, marked: inserted, as: .added))
    }

    /// A required tag and whether the caption has it.
    public struct Check: Sendable, Equatable {
        public var tag: String
        public var found: Bool
    }

    /// Each hashtag and mention of the brief, found or missing in the caption. A tag is found when the
    /// caption holds it as a whole token (case-insensitive; `#Susu` does not count for `#SusuBunda`).
    public static func checklist(caption: String, hashtags: [String], mentions: [String]) -> [Check] {
        let tokens = Set(
            caption.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_" || $0 == "." || $0 == "#" || $0 == "@") })
                .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: ".")).lowercased() })
        func normalized(_ tag: String, prefix: Character) -> String {
            let trimmed = tag.trimmingCharacters(in: .whitespaces)
            return trimmed.first == prefix ? trimmed : String(prefix) + trimmed
        }
        let wanted = hashtags.map { normalized($0, prefix: "#") } + mentions.map { normalized($0, prefix: "@") }
        return wanted.map { Check(tag: $0, found: tokens.contains($0.lowercased())) }
    }

    private struct Word {
        var word: String
        var text: String
    }

    /// Words with the whitespace that follows each (so that the text can be put back together as it was).
    private static func words(_ text: String) -> [Word] {
        var result: [Word] = []
        var current = ""
        var trailing = ""
        for character in text {
            if character.isWhitespace {
                trailing.append(character)
            } else {
                if !trailing.isEmpty {
                    result.append(Word(word: current, text: current + trailing))
                    current = ""
                    trailing = ""
                }
                current.append(character)
            }
        }
        if !current.isEmpty || !trailing.isEmpty { result.append(Word(word: current, text: current + trailing)) }
        return result
    }

    /// Consecutive words of the same kind joined into one segment.
    private static func segments(_ words: [Word], marked: Set<Int>, as kind: Segment.Kind) -> [Segment] {
        var result: [Segment] = []
        for (offset, word) in words.enumerated() {
            let wordKind: Segment.Kind = marked.contains(offset) ? kind : .same
            if let last = result.last, last.kind == wordKind {
                result[result.count - 1].text += word.text
            } else {
                result.append(Segment(wordKind, word.text))
            }
        }
        return result
    }
}
