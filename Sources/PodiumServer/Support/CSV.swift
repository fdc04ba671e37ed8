/// Comma-separated values as RFC 4180 writes them: fields with a comma, a quote or a line
/// break are quoted, quotes doubled; a record may span lines inside quotes.
enum CSV {
    /// One record and the 1-based line it starts on.
    struct Record {
        var line: Int
        var fields: [String]
    }

    /// The records of `text`; a quote left open is reported as the last record's problem.
    static func records(_ text: [UInt8]) -> (records: [Record], unterminatedQuoteLine: Int?) {
        var records: [Record] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var line = 1
        var recordLine = 1
        var index = 0
        var quoted = false
        var quoteLine: Int?
        func endRecord() {
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
            if !(fields.count == 1 && fields[0].isEmpty) { records.append(Record(line: recordLine, fields: fields)) }
            fields.removeAll(keepingCapacity: true)
        }
        while index < text.count {
            let byte = text[index]
            if quoted {
                if byte == UInt8(ascii: "\"") {
                    if index + 1 < text.count, text[index + 1] == UInt8(ascii: "\"") {
                        field.append(byte)
                        index += 1
                    } else {
                        quoted = false
                    }
                } else {
                    if byte == UInt8(ascii: "\n") { line += 1 }
                    field.append(byte)
                }
            } else {
                switch byte {
                case UInt8(ascii: "\"") where field.isEmpty:
                    quoted = true
                    quoteLine = line
                case UInt8(ascii: ","):
                    fields.append(String(decoding: field, as: UTF8.self))
                    field.removeAll(keepingCapacity: true)
                case UInt8(ascii: "\r") where index + 1 < text.count && text[index + 1] == UInt8(ascii: "\n"):
                    break
                case UInt8(ascii: "\n"):
                    endRecord()
                    line += 1
                    recordLine = line
                default:
                    field.append(byte)
                }
            }
            index += 1
        }
        if quoted { return (records, quoteLine) }
        if !field.isEmpty || !fields.isEmpty { endRecord() }
        return (records, nil)
    }

    /// `fields` as one line of CSV, ending in a line break.
    static func line(_ fields: [String]) -> String {
        fields.map { field in
            guard field.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 10 || $0 == 13 }) else {
                return field
            }
            return "\"" + field.replacing("\"", with: "\"\"") + "\""
        }.joined(separator: ",") + "\n"
    }
}
