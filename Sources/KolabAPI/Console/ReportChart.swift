import Foundation

/// The campaign report's bar chart, drawn on the server as SVG (no script): reach and engagements per
/// KOL, each series scaled to its own largest value so that both read at a glance.
enum ReportChart {
    static func svg(
        rows: [(name: String, reach: Int64, engagements: Int64)], reachLabel: String, engagementsLabel: String, language: ConsoleLanguage
    ) -> String {
        guard !rows.isEmpty else { return "" }
        let rowHeight = 44
        let labelWidth = 130
        let barWidth = 190
        let width = labelWidth + barWidth + 10
        let height = rows.count * rowHeight + 30
        let maxReach = max(1, rows.map(\.reach).max() ?? 1)
        let maxEngagements = max(1, rows.map(\.engagements).max() ?? 1)
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(width) \(height)" width="100%" role="img" \
            aria-label="\(escape(reachLabel)) / \(escape(engagementsLabel))" class="chart">
            <rect x="0" y="4" width="10" height="10" class="bar-reach"/><text x="14" y="13">\(escape(reachLabel))</text>
            <rect x="\(labelWidth)" y="4" width="10" height="10" class="bar-engagements"/>\
            <text x="\(labelWidth + 14)" y="13">\(escape(engagementsLabel))</text>

            """
        for (index, row) in rows.enumerated() {
            let y = 30 + index * rowHeight
            let reach = Int(Double(barWidth) * Double(row.reach) / Double(maxReach))
            let engagements = Int(Double(barWidth) * Double(row.engagements) / Double(maxEngagements))
            svg += """
                <text x="0" y="\(y + 14)">\(escape(String(row.name.prefix(18))))</text>
                <rect x="\(labelWidth)" y="\(y)" width="\(max(reach, 1))" height="16" class="bar-reach"><title>\(escape(row.name)): \
                \(ConsoleFormat.number(row.reach, language))</title></rect>
                <text x="\(labelWidth + max(reach, 1) + 4)" y="\(y + 13)" class="value">\(ConsoleFormat.number(row.reach, language))</text>
                <rect x="\(labelWidth)" y="\(y + 19)" width="\(max(engagements, 1))" height="16" class="bar-engagements"><title>\
                \(escape(row.name)): \(ConsoleFormat.number(row.engagements, language))</title></rect>
                <text x="\(labelWidth + max(engagements, 1) + 4)" y="\(y + 32)" class="value">\(ConsoleFormat.number(row.engagements, language))</text>

                """
        }
        return svg + "</svg>"
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
