import Foundation
import Testing

@testable import PodiumServer

/// Keeps the error catalogue (``ErrorCode``) and docs/api.md together: each HTTP code is
/// in the table row of its status, each WebSocket-only code in the WebSocket section, and
/// the table names no code the catalogue lacks.
@Suite("Error catalogue")
struct ErrorCatalogueTests {
    static func apiDocument() throws -> String {
        try String(contentsOf: OpenAPITests.repositoryRoot.appendingPathComponent("docs/api.md"), encoding: .utf8)
    }

    /// The status table's rows: `| 409 | `SESSION_CONSUMED` (…), … |` → 409: its text.
    static func statusRows(_ document: String) -> [Int: String] {
        var rows: [Int: String] = [:]
        for line in document.split(separator: "\n") where line.hasPrefix("| ") {
            let cells = line.split(separator: "|", maxSplits: 2).map { $0.trimmingCharacters(in: .whitespaces) }
            if cells.count == 2, let status = Int(cells[0]) { rows[status] = cells[1] }
        }
        return rows
    }

    /// The backticked upper-case words of `text`: the codes it names.
    static func codes(in text: some StringProtocol) -> Set<String> {
        let quoted = text.split(separator: "`", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }
        return Set(quoted.map { String($0.element) }.filter { word in word.count > 3 && word.allSatisfy { $0.isUppercase || $0 == "_" } })
    }

    @Test func everyHTTPCodeIsInTheRowOfItsStatus() throws {
        let rows = Self.statusRows(try Self.apiDocument())
        for code in ErrorCode.allCases where !code.isLiveOnly {
            let row = rows[code.status.code] ?? ""
            #expect(Self.codes(in: row).contains(code.rawValue), "docs/api.md: \(code.rawValue) is not in the \(code.status.code) row")
        }
    }

    @Test func everyWebSocketCodeIsInTheWebSocketSection() throws {
        let document = try Self.apiDocument()
        let section = try #require(document.range(of: "## WebSocket")).upperBound
        let named = Self.codes(in: document[section...])
        for code in ErrorCode.allCases where code.isLiveOnly {
            #expect(named.contains(code.rawValue), "docs/api.md: \(code.rawValue) is not in the WebSocket section")
        }
    }

    @Test func theTableNamesOnlyCataloguedCodesUnderTheirStatus() throws {
        let catalogue = Dictionary(uniqueKeysWithValues: ErrorCode.allCases.map { ($0.rawValue, $0) })
        for (status, row) in Self.statusRows(try Self.apiDocument()) {
            for named in Self.codes(in: row) {
                #expect(catalogue[named]?.status.code == status, "docs/api.md: \(named) under \(status) is not a catalogued \(status) code")
            }
        }
    }
}
