import DRCore
public import Foundation

/// Renders a ``DrillHistory`` as Markdown, JSON or one self-contained HTML file. Pure
/// functions of the history (its `generatedAt` is the only clock): same history, same bytes.
public enum DrillReportRenderer {
    /// The output formats of `drctl drill report`.
    public enum Format: String, Sendable, CaseIterable {
        case md
        case html
        case json
    }

    /// The history in `format`, as UTF-8 bytes ending in a newline.
    public static func render(_ history: DrillHistory, as format: Format) throws -> [UInt8] {
        switch format {
        case .md: Array(markdown(history).utf8)
        case .html: Array(html(history).utf8)
        case .json: try json(history)
        }
    }

    /// The history as JSON: sorted keys, ISO 8601 UTC dates with milliseconds, durations in
    /// seconds, `schemaVersion` first-class (docs/DRILL-REPORTS.md lists the keys).
    public static func json(_ history: DrillHistory) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(ISO8601.format(date))
        }
        return Array(try encoder.encode(history)) + Array("\n".utf8)
    }

    /// A decoder for ``json(_:)``'s output.
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = ISO8601.parse(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not ISO 8601: \(text)"))
            }
            return date
        }
        return decoder
    }
}
