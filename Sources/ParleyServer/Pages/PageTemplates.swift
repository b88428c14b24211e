import Foundation
import Hummingbird
import Mustache

/// The HTML pages' Mustache templates (`Templates/*.mustache` in the target's resources), parsed once
/// when the server is made. Every `{{value}}` is HTML-escaped, and no template writes a value
/// unescaped: links, buttons and forms in a page are sections of its template, not prebuilt HTML.
struct PageTemplates: Sendable {
    /// The pages. Each inherits `layout` (head and navigation) and fills its `main` block.
    enum Name: String, CaseIterable, Sendable {
        case console, login, runs, run
        case missingRun = "missing-run"
        case approvals, audit
        case auditDenied = "audit-denied"
        case users, alerts
        case alertsDenied = "alerts-denied"
        case cluster, incidents, incident, oncall, pages
    }

    /// Templates the pages include: the layout, and tables (`table` for plain text cells).
    static let partials = ["layout", "table", "alert-table"]

    /// A template that is missing or does not parse: a defect of the build, not of anyone's input.
    struct LoadError: Error, CustomStringConvertible {
        let name: String
        let reason: String
        var description: String { "page template \(name).mustache: \(reason)" }
    }

    private let library: MustacheLibrary

    /// Parses every page and partial from `bundle`'s `Templates` folder.
    init(bundle: Bundle) throws {
        var library = MustacheLibrary()
        for name in Name.allCases.map(\.rawValue) + Self.partials {
            guard let url = bundle.url(forResource: name, withExtension: "mustache", subdirectory: "Templates"),
                let data = try? Data(contentsOf: url)
            else { throw LoadError(name: name, reason: "not in the resources") }
            do {
                try library.register(String(decoding: data, as: UTF8.self), named: name)
            } catch {
                throw LoadError(name: name, reason: "\(error)")
            }
        }
        self.library = library
    }

    /// The page `name` with `content`, for `auth` (nil on the sign-in page).
    func render(_ name: Name, title: String, auth: Authenticated?, content: some Any = PageContent.none) -> String {
        let page = Page(
            title: title, signedIn: auth != nil, user: auth?.userName, csrf: auth?.csrfToken ?? "", content: content)
        // Every name has a template: `init` checked that.
        return library.render(page, withTemplate: name.rawValue) ?? ""
    }

    /// A table alone (`table.mustache`), for a part of a page fetched again while it is open.
    func renderTable(_ table: TextTable) -> String {
        library.render(table, withTemplate: "table") ?? ""
    }

    /// The page as an HTML response.
    func response(
        _ name: Name, title: String, auth: Authenticated?, content: some Any = PageContent.none,
        status: HTTPResponse.Status = .ok
    ) -> Response {
        HTML.response(render(name, title: title, auth: auth, content: content), status: status)
    }
}

/// What every page's layout reads: its title and who is signed in, around the page's own `content`.
struct Page<Content> {
    let title: String
    let signedIn: Bool
    let user: String?
    /// The session's CSRF token, for the page's forms and scripts ("" when signed out).
    let csrf: String
    let content: Content
}

/// The content of a page whose template needs none.
enum PageContent {
    case none
}

/// A table of plain text cells, for the `table` partial.
struct TextTable {
    struct Row {
        let cells: [String]
    }

    let header: [String]
    let rows: [Row]

    init(_ header: [String], _ rows: [[String]]) {
        self.header = header
        self.rows = rows.map(Row.init)
    }
}
