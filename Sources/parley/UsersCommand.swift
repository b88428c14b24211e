import ArgumentParser
import Foundation
import ParleyCore
import ParleyServer
import ParleyStore

/// `parley users …`: the users the configuration declares, and their web console passwords.
struct UsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users", abstract: "List users and set their web console passwords.",
        subcommands: [List.self, SetPassword.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users, their roles and identities.")
        @OptionGroup var configOptions: ConfigOptions

        func run() async throws {
            let config = try configOptions.load()
            let directory = Directory(users: config.users, groups: config.groups)
            for principal in directory.allPrincipals {
                let user = directory.users[principal.userName ?? ""]
                print(
                    "\(principal.userName ?? "")  roles: \(principal.roles.joined(separator: ", "))  identities: \(user?.identities.map(\.description).joined(separator: ", ") ?? "")"
                )
            }
        }
    }

    struct SetPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-password",
            abstract: "Set a user's web console password, read from standard input (at least 10 characters).")
        @Argument(help: "The user, as named under users:.") var user: String
        @OptionGroup var configOptions: ConfigOptions

        func run() async throws {
            let config = try configOptions.load()
            guard config.users.contains(where: { $0.name == user }) else {
                throw ValidationError("no user '\(user)' in the configuration")
            }
            if isatty(STDIN_FILENO) == 1 { FileHandle.standardError.write(Data("New password for \(user): ".utf8)) }
            guard let password = readLine(strippingNewline: true), password.count >= 10 else {
                throw ValidationError("a password needs at least 10 characters")
            }
            let store = try await ConfigOptions.openStore(config)
            try await store.setPasswordHash(try PasswordHasher.hash(password), userName: user)
            print("password set for \(user); their other sessions were signed out")
        }
    }
}

/// `parley tokens …`: API tokens for the JSON API.
struct TokensCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens", abstract: "Create, list and revoke API tokens.",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token; it is printed once.")
        @Option(help: "The user the token acts as.") var user: String
        @Option(help: "commands, read, approvals or * (repeatable).") var scope: [String] = ["commands"]
        @Option(help: "A name to recognise it by.") var name: String = ""
        @OptionGroup var configOptions: ConfigOptions

        func run() async throws {
            let config = try configOptions.load()
            guard config.users.contains(where: { $0.name == user }) else {
                throw ValidationError("no user '\(user)' in the configuration")
            }
            for item in scope where !APITokens.scopes.contains(item) {
                throw ValidationError("unknown scope '\(item)'; use commands, read, approvals or *")
            }
            let store = try await ConfigOptions.openStore(config)
            let (token, _) = try await APITokens.create(user: user, scopes: scope, name: name, store: store)
            print(token)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (never their secrets).")
        @OptionGroup var configOptions: ConfigOptions

        func run() async throws {
            let config = try configOptions.load()
            let store = try await ConfigOptions.openStore(config)
            for token in try await store.tokens() {
                let state = token.revokedAt == nil ? "active" : "revoked"
                print("\(token.id)  \(token.userName)  \(token.scopes.joined(separator: ","))  \(state)  \(token.name)")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by its id.")
        @Argument(help: "The token's id (the part after plt_).") var id: String
        @OptionGroup var configOptions: ConfigOptions

        func run() async throws {
            let config = try configOptions.load()
            let store = try await ConfigOptions.openStore(config)
            guard try await store.revokeToken(id: id, at: Date()) else {
                throw ValidationError("no active token '\(id)'")
            }
            print("revoked \(id)")
        }
    }
}
