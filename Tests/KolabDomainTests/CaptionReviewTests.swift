import KolabDomain
import Testing

@Suite("Caption review: the word diff and the brief checklist")
struct CaptionReviewTests {
    @Test func removedAndAddedWordsAreMarkedAndTheTextIsKept() {
        let (old, new) = CaptionReview.compare(
            previous: "Sahur ceria bersama si kecil #SusuBunda", current: "Sahur ceria bersama anak-anak #SusuBunda @susubunda.id")
        #expect(old.map(\.text).joined() == "Sahur ceria bersama si kecil #SusuBunda")
        #expect(new.map(\.text).joined() == "Sahur ceria bersama anak-anak #SusuBunda @susubunda.id")
        #expect(old.filter { $0.kind == .removed }.map(\.text) == ["si kecil "])
        #expect(new.filter { $0.kind == .added }.map(\.text) == ["anak-anak ", "@susubunda.id"])
        #expect(!old.contains { $0.kind == .added } && !new.contains { $0.kind == .removed })
    }

    @Test func identicalCaptionsHaveNothingMarkedAndEmptyOnesNoSegments() {
        let (old, new) = CaptionReview.compare(previous: "Sama saja", current: "Sama saja")
        #expect(old == [.init(.same, "Sama saja")] && new == [.init(.same, "Sama saja")])
        let (none, added) = CaptionReview.compare(previous: "", current: "Baru")
        #expect(none.isEmpty && added == [.init(.added, "Baru")])
    }

    @Test func tagsAreFoundAsWholeTokensWhateverTheCase() {
        let checks = CaptionReview.checklist(
            caption: "Pagi ceria! #susubunda #Sahur, bersama @SusuBunda.id.", hashtags: ["#SusuBunda", "SahurCeria", "#Sahur"],
            mentions: ["@susubunda.id", "kolab"])
        #expect(checks.map(\.tag) == ["#SusuBunda", "#SahurCeria", "#Sahur", "@susubunda.id", "@kolab"])
        #expect(checks.map(\.found) == [true, false, true, true, false])
    }
}
