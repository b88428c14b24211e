import Yams

/// Reads `roles:`, `groups:`, `users:` and `secrets:`.
struct PeopleReader {
    let reader: YAMLReader
    let baseDirectory: String

    func readRoles(_ node: Node, commands: [CommandDeclaration]) -> [RoleGrant] {
        var roles: [RoleGrant] = []
        for entry in reader.mapping(node, "roles") {
            var role = RoleGrant(name: entry.key, allow: [], deny: [])
            for field in reader.mapping(entry.value, "role '\(entry.key)'", allowed: ["allow", "deny"]) {
                for (pattern, patternNode) in reader.strings(field.value, field.key) {
                    checkPattern(pattern, at: patternNode, role: entry.key, commands: commands)
                    if field.key == "allow" { role.allow.append(pattern) } else { role.deny.append(pattern) }
                }
            }
            roles.append(role)
        }
        return roles
    }

    private func checkPattern(_ pattern: String, at node: Node, role: String, commands: [CommandDeclaration]) {
        guard !commands.contains(where: { Policy.matches(pattern: pattern, command: $0) }) else { return }
        let near = commands.map(\.id).filter { EditDistance.between($0, pattern) <= 2 }
        let hint = near.first.map { "; did you mean '\($0)'?" } ?? ""
        reader.report(node, "role '\(role)' names '\(pattern)', which matches no command\(hint)")
    }

    func readGroups(_ node: Node, roles: Set<String>) -> [Group] {
        reader.mapping(node, "groups").map { entry in
            var group = Group(name: entry.key, roles: [])
            for field in reader.mapping(entry.value, "group '\(entry.key)'", allowed: ["roles"]) {
                group.roles = roleList(field.value, owner: "group '\(entry.key)'", roles: roles)
            }
            return group
        }
    }

    func readUsers(_ node: Node, roles: Set<String>, groups: Set<String>, secrets: [SecretDeclaration]) -> [User] {
        var users: [User] = []
        var owners: [Identity: String] = [:]
        for entry in reader.mapping(node, "users") {
            var user = User(name: entry.key, roles: [], identities: [])
            let owner = "user '\(entry.key)'"
            for field in reader.mapping(entry.value, owner, allowed: ["roles", "groups", "identities", "secrets"]) {
                switch field.key {
                case "roles": user.roles = roleList(field.value, owner: owner, roles: roles)
                case "groups":
                    for (group, groupNode) in reader.strings(field.value, "groups") {
                        if !groups.contains(group) {
                            reader.report(groupNode, "\(owner) is in unknown group '\(group)'\(hint(group, groups))")
                        }
                        user.groups.append(group)
                    }
                case "secrets": user.secrets = readUserSecrets(field.value, owner: owner, declared: secrets)
                default:
                    for (text, identityNode) in reader.strings(field.value, "identities") {
                        guard let identity = Identity(text) else {
                            reader.report(
                                identityNode,
                                "'\(text)' is not an identity; write platform:id, as in slack:U024BE7LH or irc:alice")
                            continue
                        }
                        if let other = owners[identity] {
                            reader.report(
                                identityNode, "identity \(identity) belongs to both '\(other)' and '\(entry.key)'")
                        }
                        owners[identity] = entry.key
                        user.identities.append(identity)
                    }
                }
            }
            users.append(user)
        }
        return users
    }

    private func roleList(_ node: Node, owner: String, roles: Set<String>) -> [String] {
        reader.strings(node, "roles").map { role, roleNode in
            if !roles.contains(role) {
                let fallback = "; define it under roles:"
                reader.report(roleNode, "\(owner) has unknown role '\(role)'\(hint(role, roles, fallback: fallback))")
            }
            return role
        }
    }

    private func hint(_ name: String, _ known: Set<String>, fallback: String = "") -> String {
        let near = known.filter { EditDistance.between($0, name) <= 2 }.sorted()
        return near.first.map { "; did you mean '\($0)'?" } ?? fallback
    }

    func readSecrets(_ node: Node) -> [SecretDeclaration] {
        reader.mapping(node, "secrets").compactMap { entry in
            guard entry.key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                reader.report(entry.keyNode, "secret name '\(entry.key)' may use only letters, digits and _")
                return nil
            }
            if case .scalar = entry.value {
                guard let reference = readReference(entry.value, secret: entry.key) else { return nil }
                return SecretDeclaration(name: entry.key, reference: reference, perUser: false)
            }
            var declaration = SecretDeclaration(name: entry.key, reference: nil, perUser: false)
            for field in reader.mapping(entry.value, "secret '\(entry.key)'", allowed: ["from", "per_user"]) {
                if field.key == "from" {
                    declaration.reference = readReference(field.value, secret: entry.key)
                } else {
                    declaration.perUser = reader.string(field.value, "per_user") == "true"
                }
            }
            if declaration.reference == nil && !declaration.perUser {
                reader.report(entry.value, "secret '\(entry.key)' needs from: env:NAME or file:PATH, or per_user: true")
            }
            return declaration
        }
    }

    private func readUserSecrets(_ node: Node, owner: String, declared: [SecretDeclaration]) -> [String:
        SecretReference]
    {
        var result: [String: SecretReference] = [:]
        for entry in reader.mapping(node, "secrets of \(owner)") {
            guard declared.contains(where: { $0.name == entry.key && $0.perUser }) else {
                reader.report(
                    entry.keyNode, "\(owner) sets '\(entry.key)', which is not a per_user secret under secrets:")
                continue
            }
            if let reference = readReference(entry.value, secret: entry.key) { result[entry.key] = reference }
        }
        return result
    }

    /// Reads `env:NAME` or `file:PATH` and checks the value can be had now, so nothing starts without it.
    private func readReference(_ node: Node, secret: String) -> SecretReference? {
        guard let text = reader.string(node, "secret '\(secret)'") else { return nil }
        guard let reference = SecretReference(text, baseDirectory: baseDirectory) else {
            reader.report(node, "secret '\(secret)' must be env:NAME or file:PATH, not a value")
            return nil
        }
        if case .failure(let problem) = reference.resolve(environment: reader.environment) {
            reader.report(node, "secret '\(secret)': \(problem.message)")
        }
        return reference
    }
}
