import Foundation

/// Where each value of a JSON text starts: the 1-based line of every path, such as
/// `games[2].actions[0]`, so a problem found after decoding can name its place in the file.
/// It only finds places: text that is not JSON yields the places read before the fault.
enum JSONLines {
    private enum Frame {
        case object(path: String, key: String?, expectingKey: Bool)
        case array(path: String, index: Int)
    }

    static func lines(of text: [UInt8]) -> [String: Int] {
        var lines: [String: Int] = [:]
        var stack: [Frame] = []
        var line = 1
        var index = 0
        /// The path of a value starting now, recorded at the current line.
        func valueStarts() -> String {
            let path: String
            switch stack.last {
            case .object(let parent, let key, _): path = parent.isEmpty ? (key ?? "") : "\(parent).\(key ?? "")"
            case .array(let parent, let position): path = "\(parent)[\(position)]"
            case nil: path = ""
            }
            if lines[path] == nil { lines[path] = line }
            return path
        }
        while index < text.count {
            let byte = text[index]
            switch byte {
            case UInt8(ascii: "\n"): line += 1
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: ":"): break
            case UInt8(ascii: "{"): stack.append(.object(path: valueStarts(), key: nil, expectingKey: true))
            case UInt8(ascii: "["): stack.append(.array(path: valueStarts(), index: 0))
            case UInt8(ascii: "}"), UInt8(ascii: "]"): _ = stack.popLast()
            case UInt8(ascii: ","):
                switch stack.last {
                case .object(let path, _, _): stack[stack.count - 1] = .object(path: path, key: nil, expectingKey: true)
                case .array(let path, let position): stack[stack.count - 1] = .array(path: path, index: position + 1)
                case nil: break
                }
            case UInt8(ascii: "\""):
                var end = index + 1
                var bytes: [UInt8] = []
                while end < text.count, text[end] != UInt8(ascii: "\"") {
                    if text[end] == UInt8(ascii: "\\") { end += 1 }
                    if end < text.count { bytes.append(text[end]) }
                    end += 1
                }
                if case .object(let path, _, true) = stack.last {
                    stack[stack.count - 1] = .object(path: path, key: String(decoding: bytes, as: UTF8.self), expectingKey: false)
                } else {
                    _ = valueStarts()
                }
                index = end
            default:
                _ = valueStarts()
                while index + 1 < text.count, !",]}\n ".utf8.contains(text[index + 1]) { index += 1 }
            }
            index += 1
        }
        return lines
    }

    /// The line of `path`, or of the nearest enclosing value that has one.
    static func line(of path: String, in lines: [String: Int]) -> Int? {
        var path = path
        while true {
            if let line = lines[path] { return line }
            guard let cut = path.lastIndex(where: { $0 == "." || $0 == "[" }) else { return lines[""] }
            path = String(path[..<cut])
        }
    }

    /// Why `text` is not JSON and the line of the fault, or nil when it is JSON.
    static func syntaxError(in text: [UInt8]) -> (line: Int, message: String)? {
        do {
            _ = try JSONSerialization.jsonObject(with: Data(text), options: [.fragmentsAllowed])
            return nil
        } catch {
            let reason = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
            guard let match = reason.firstMatch(of: /character (\d+)/), let offset = Int(match.1) else { return (1, reason) }
            let line = 1 + text.prefix(offset).count(where: { $0 == UInt8(ascii: "\n") })
            return (line, reason)
        }
    }
}
