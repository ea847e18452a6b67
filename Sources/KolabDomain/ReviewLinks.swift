import Foundation

/// Guest review links (DESIGN.md, "Web console", "Guest review links"): who makes them and what a
/// new one must be. A link's holder reviews as the campaign's brand would, so the deliverable
/// machine decides a guest's review as for the role `brand`.
public enum ReviewLinkRules {
    /// A link lives at most this long (the database's `review_links_lifetime` says the same).
    public static let maximumLifetime: TimeInterval = 30 * 86_400

    /// The campaign's officer (the only officer who sees it) and admins make, list and revoke links.
    public static func mayManage(_ role: Role) -> Bool {
        role == .officer || role == .admin
    }

    /// A new link's reviewer and end, checked at `now`: every fault at once (422).
    public static func validate(reviewerName: String, reviewerEmail: String, expiresAt: Date, now: Date) throws(KolabError)
        -> (name: String, email: EmailAddress)
    {
        var v = Validator()
        let name = v.text(reviewerName, "reviewer_name", max: 200)
        let email = v.email(reviewerEmail, "reviewer_email")
        if expiresAt <= now {
            v.add("expires_at", "must be in the future")
        } else if expiresAt > now.addingTimeInterval(maximumLifetime) {
            v.add("expires_at", "must be at most 30 days from now")
        }
        try v.validate()
        guard let email else { throw KolabError.invalid(field: "reviewer_email", "must be an e-mail address like name@example.com") }
        return (name, email)
    }
}
