import Foundation
import Hummingbird
import ParleyCore

/// Minimal HTML building: every interpolated value is escaped.
enum HTML {
    static func escape(_ text: String) -> String { HTMLText.escape(text) }

    static func table(_ header: [String], _ rows: [[String]], raw: Set<Int> = []) -> String {
        let head = header.map { "<th>\(escape($0))</th>" }.joined()
        let body = rows.map { row in
            "<tr>"
                + row.enumerated().map { "<td>\(raw.contains($0.offset) ? $0.element : escape($0.element))</td>" }
                .joined()
                + "</tr>"
        }.joined(separator: "\n")
        return "<table><thead><tr>\(head)</tr></thead><tbody>\n\(body)\n</tbody></table>"
    }

    /// A whole page with the dashboard's navigation.
    static func page(title: String, user: String?, csrf: String?, body: String) -> String {
        let nav: String
        if let user {
            nav = """
                <nav><a href="/">Console</a><a href="/runs">Runs</a><a href="/approvals">Approvals</a><a href="/alerts">Alerts</a>\
                <a href="/audit">Audit</a><a href="/users">Users</a>\
                <form method="post" action="/logout" class="logout"><input type="hidden" name="csrf" value="\(escape(csrf ?? ""))">\
                <span>\(escape(user))</span> <button type="submit">Sign out</button></form></nav>
                """
        } else {
            nav = "<nav><span class=\"brand\">Parley</span></nav>"
        }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="csrf" content="\(escape(csrf ?? ""))"><meta name="user" content="\(escape(user ?? ""))">
            <title>\(escape(title)) · Parley</title><link rel="stylesheet" href="/assets/style.css"></head>
            <body>\(nav)<main>\(body)</main></body></html>
            """
    }

    static func response(_ html: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.contentSecurityPolicy] =
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"
        headers[.xContentTypeOptions] = "nosniff"
        headers[.init("Referrer-Policy")!] = "same-origin"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func redirect(_ location: String, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.location] = location
        return Response(status: .seeOther, headers: headers)
    }
}

/// `application/x-www-form-urlencoded` bodies.
enum FormBody {
    static func decode(_ request: Request, limit: Int) async throws -> [String: String] {
        let buffer = try await request.body.collect(upTo: limit)
        return parse(String(buffer: buffer))
    }

    static func parse(_ text: String) -> [String: String] {
        var values: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            if let key = parts.first { values[key] = parts.count > 1 ? parts[1] : "" }
        }
        return values
    }
}
