//! Blast radius of a live credential: who it is and what it can reach. Read calls only.
//!
//! | question | call |
//! |---|---|
//! | which token, whose | `GET /access/api/v1/tokens/me` (from validation) and the token's own claims |
//! | admin or not, groups | `GET /access/api/v2/users/{user}` (admin only: a `403` for the credential itself means it is no admin) |
//! | which repositories, of which type and package type | `GET /artifactory/api/repositories` (lists what the caller can see) |
//! | read / deploy / delete / manage per repository | `GET /artifactory/api/v2/security/permissions/users/{user}` and `…/groups/{group}` (permission targets) |
//! | who consumes a local repository | `GET /artifactory/api/repositories/{virtual}` (the local repositories a virtual one aggregates) |
//!
//! The permission-target and user calls need an admin (or a user with Manage permission);
//! when the credential itself may not read them, an admin credential given by the user
//! (`--admin-token-file`) is used for those reads only. Without one, the write access of a
//! non-admin credential stays unknown and is reported as such.

use std::collections::{BTreeMap, BTreeSet};

use keyhound_engine::user_from_subject;
use serde::Serialize;
use serde_json::Value;

use crate::credential::Credential;
use crate::http::{Auth, Call, Client, Reply};
use crate::instance::Instance;
use crate::validate::Validation;

/// Access to one repository.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RepoAccess {
    /// Repository key.
    pub key: String,
    /// `local`, `remote`, `virtual` or `federated`.
    #[serde(rename = "type")]
    pub repo_type: String,
    /// Package type, lowercase (`docker`, `npm`, `maven`...).
    pub package_type: String,
    /// Can read (download, list).
    pub read: bool,
    /// Can deploy (write, overwrite); `None` when not visible to keyhound.
    pub deploy: Option<bool>,
    /// Can delete.
    pub delete: Option<bool>,
    /// Can manage (change permissions on it).
    pub manage: Option<bool>,
    /// Virtual repositories that serve this local repository to consumers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub consumed_via: Vec<String>,
}

/// What a live credential can do.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BlastRadius {
    /// The user it acts as.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Whether it has admin rights (admin scope, or an admin user's identity).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin: Option<bool>,
    /// The groups whose permissions it carries.
    pub groups: Vec<String>,
    /// The token's scopes, when known.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// Repositories it can reach.
    pub repositories: Vec<RepoAccess>,
    /// Counts for dashboards.
    pub counts: BTreeMap<String, usize>,
    /// One line: "can overwrite 12 local repositories (docker: 3, npm: 5, maven: 4)".
    pub summary: String,
    /// `critical` (admin, or write to a local repository), `high` (read), `medium` (nothing
    /// visible).
    pub severity: String,
    /// False when write access could not be read (no admin credential).
    pub permissions_known: bool,
    /// Caveats.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The read calls made: `GET /path -> 200 (finding|admin)`.
    pub evidence: Vec<String>,
}

struct Ctx<'a> {
    client: &'a Client,
    cred: &'a Credential,
    instance: &'a Instance,
    admin: Option<&'a Credential>,
    evidence: Vec<String>,
}

impl Ctx<'_> {
    async fn get(&mut self, path: &str, as_admin: bool) -> Option<Reply> {
        let auth = match (as_admin, self.admin) {
            (true, Some(a)) => Auth::Admin(a),
            _ => Auth::Finding(self.cred),
        };
        let who = if matches!(auth, Auth::Admin(_)) {
            "admin"
        } else {
            "finding"
        };
        let call = Call::get(path, auth, "blast_radius").about(self.cred);
        match self.client.send(self.instance, call).await {
            Ok(r) => {
                self.evidence
                    .push(format!("GET {path} -> {} ({who})", r.status));
                Some(r)
            }
            Err(e) => {
                self.evidence
                    .push(format!("GET {path} -> {} ({who})", e.short()));
                None
            }
        }
    }

    /// A read with the credential, retried with the admin credential on 401/403.
    async fn get_json(&mut self, path: &str) -> Option<Value> {
        let first = self.get(path, false).await?;
        if first.status == 200 {
            return first.json();
        }
        if matches!(first.status, 401 | 403) && self.admin.is_some() {
            let second = self.get(path, true).await?;
            if second.status == 200 {
                return second.json();
            }
        }
        None
    }
}

fn seg(s: &str) -> String {
    // Path segment encoding for user, group and repository names.
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[derive(Default, Clone, Copy)]
struct Actions {
    read: bool,
    deploy: bool,
    delete: bool,
    manage: bool,
}

/// Adds the actions of permission targets (`GET …/permissions/users/{u}` answers) to `acc`.
fn add_targets(targets: &Value, repos: &[(String, String)], acc: &mut BTreeMap<String, Actions>) {
    let Some(list) = targets.as_array() else {
        return;
    };
    for t in list {
        let Some(repo) = t.get("repo") else { continue };
        let actions: Vec<&str> = repo
            .get("actions")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let names: Vec<&str> = repo
            .get("repositories")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for (key, rtype) in repos {
            let covered = names.iter().any(|n| {
                n == key
                    || *n == "ANY"
                    || (*n == "ANY LOCAL" && (rtype == "local" || rtype == "federated"))
                    || (*n == "ANY REMOTE" && rtype == "remote")
            });
            if !covered {
                continue;
            }
            let a = acc.entry(key.clone()).or_default();
            for action in &actions {
                match *action {
                    "read" => a.read = true,
                    "write" | "deploy" => a.deploy = true,
                    "delete" => a.delete = true,
                    "manage" => a.manage = true,
                    _ => {}
                }
            }
        }
    }
}

/// Computes the blast radius of a live credential.
pub async fn blast_radius(
    client: &Client,
    cred: &Credential,
    instance: &Instance,
    validation: &Validation,
    admin: Option<&Credential>,
) -> BlastRadius {
    let mut ctx = Ctx {
        client,
        cred,
        instance,
        admin,
        evidence: Vec::new(),
    };
    let mut notes = Vec::new();
    let record = validation.token.as_ref();
    let user = record
        .and_then(|r| r.get("subject"))
        .and_then(Value::as_str)
        .map(|s| user_from_subject(s).to_owned())
        .or_else(|| cred.username.clone());
    let mut scopes = cred.scopes();
    if scopes.is_empty() {
        if let Some(s) = record.and_then(|r| r.get("scope")).and_then(Value::as_str) {
            scopes = s.split_whitespace().map(str::to_owned).collect();
        }
    }
    let admin_scope = cred.admin_scope() || scopes.iter().any(|s| s == "applied-permissions/admin");
    let scoped_groups: Option<Vec<String>> = scopes.iter().find_map(|s| {
        s.strip_prefix("applied-permissions/groups:").map(|g| {
            g.split(',')
                .map(|x| x.trim().trim_matches('"').to_owned())
                .filter(|x| !x.is_empty())
                .collect()
        })
    });

    // Who: admin flag and groups of the user.
    let mut user_admin = None;
    let mut user_groups = Vec::new();
    if let Some(u) = &user {
        match ctx
            .get_json(&format!("/access/api/v2/users/{}", seg(u)))
            .await
        {
            Some(details) => {
                let flag = |k: &str| details.get(k).and_then(Value::as_bool).unwrap_or(false);
                user_admin = Some(flag("admin") || flag("effective_admin"));
                user_groups = details
                    .get("groups")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|g| g.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
            }
            None if !admin_scope => {
                notes.push(
                    "user details are admin-only and this credential may not read them: it is \
                     no admin; give --admin-token-file to see its groups"
                        .to_owned(),
                );
                user_admin = Some(false);
            }
            None => {}
        }
    }
    // A group-scoped token carries only those groups' permissions, not its user's.
    let (groups, identity) = match &scoped_groups {
        Some(g) => (g.clone(), false),
        None => (user_groups.clone(), true),
    };
    let admin_effective = admin_scope || (identity && user_admin == Some(true));

    // What: visible repositories.
    let mut repos: Vec<(String, String, String)> = Vec::new();
    if let Some(Value::Array(list)) = ctx.get_json("/artifactory/api/repositories").await {
        for r in list {
            let Some(key) = r.get("key").and_then(Value::as_str) else {
                continue;
            };
            let rtype = r
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("unknown")
                .to_ascii_lowercase();
            let ptype = r
                .get("packageType")
                .and_then(Value::as_str)
                .unwrap_or("generic")
                .to_ascii_lowercase();
            repos.push((key.to_owned(), rtype, ptype));
        }
    } else {
        notes.push("the repository list could not be read".to_owned());
    }
    let keys: Vec<(String, String)> = repos
        .iter()
        .map(|(k, t, _)| (k.clone(), t.clone()))
        .collect();

    // Actions per repository.
    let mut permissions_known = admin_effective;
    let mut acc: BTreeMap<String, Actions> = BTreeMap::new();
    if !admin_effective {
        let mut principals: Vec<String> = groups
            .iter()
            .map(|g| format!("groups/{}", seg(g)))
            .collect();
        if identity {
            if let Some(u) = &user {
                principals.insert(0, format!("users/{}", seg(u)));
            }
        }
        let mut all_read = !principals.is_empty();
        for p in &principals {
            match ctx
                .get_json(&format!("/artifactory/api/v2/security/permissions/{p}"))
                .await
            {
                Some(targets) => add_targets(&targets, &keys, &mut acc),
                None => all_read = false,
            }
        }
        permissions_known = all_read;
        if !permissions_known {
            notes.push(
                "permission targets are readable only by an admin: deploy and delete access are \
                 unknown; give --admin-token-file to compute them"
                    .to_owned(),
            );
        }
    }

    // Which local repositories others consume through virtual repositories.
    let mut consumed: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (key, rtype, _) in repos.iter().filter(|r| r.1 == "virtual").take(50) {
        let _ = rtype;
        if let Some(cfg) = ctx
            .get_json(&format!("/artifactory/api/repositories/{}", seg(key)))
            .await
        {
            for member in cfg
                .get("repositories")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                consumed
                    .entry(member.to_owned())
                    .or_default()
                    .push(key.clone());
            }
        }
    }

    let repositories: Vec<RepoAccess> = repos
        .iter()
        .map(|(key, rtype, ptype)| {
            let a = acc.get(key).copied().unwrap_or_default();
            let (deploy, delete, manage) = if admin_effective {
                (Some(true), Some(true), Some(true))
            } else if permissions_known {
                (Some(a.deploy), Some(a.delete), Some(a.manage))
            } else {
                (None, None, None)
            };
            RepoAccess {
                key: key.clone(),
                repo_type: rtype.clone(),
                package_type: ptype.clone(),
                // Listed means visible: at least read.
                read: true,
                deploy,
                delete,
                manage,
                consumed_via: consumed.get(key).cloned().unwrap_or_default(),
            }
        })
        .collect();

    let writable_local: Vec<&RepoAccess> = repositories
        .iter()
        .filter(|r| {
            (r.repo_type == "local" || r.repo_type == "federated") && r.deploy == Some(true)
        })
        .collect();
    let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &writable_local {
        *by_type.entry(r.package_type.as_str()).or_default() += 1;
    }
    let count = |f: &dyn Fn(&RepoAccess) -> bool| repositories.iter().filter(|r| f(r)).count();
    let mut counts = BTreeMap::new();
    counts.insert("readable".to_owned(), repositories.len());
    counts.insert("writable_local".to_owned(), writable_local.len());
    counts.insert("deletable".to_owned(), count(&|r| r.delete == Some(true)));
    counts.insert("manageable".to_owned(), count(&|r| r.manage == Some(true)));
    let n = |k: usize, what: &str| format!("{k} {what}{}", if k == 1 { "y" } else { "ies" });
    let mut parts = Vec::new();
    if admin_effective {
        parts.push("admin: full control of the instance".to_owned());
    }
    if !writable_local.is_empty() {
        let types: Vec<String> = by_type.iter().map(|(t, c)| format!("{t}: {c}")).collect();
        parts.push(format!(
            "can overwrite {} ({})",
            n(writable_local.len(), "local repositor"),
            types.join(", ")
        ));
    }
    if repositories.is_empty() {
        parts.push("no repository visible".to_owned());
    } else {
        parts.push(format!("can read {}", n(repositories.len(), "repositor")));
    }
    if !permissions_known && !admin_effective {
        parts.push("write access unknown".to_owned());
    }
    let severity = if admin_effective || !writable_local.is_empty() {
        "critical"
    } else if !repositories.is_empty() || !permissions_known {
        "high"
    } else {
        "medium"
    };
    let consumed_local = writable_local
        .iter()
        .filter(|r| !r.consumed_via.is_empty())
        .count();
    if consumed_local > 0 {
        notes.push(format!(
            "{consumed_local} writable local repositor{} served to consumers through virtual \
             repositories: a supply-chain compromise path",
            if consumed_local == 1 {
                "y is"
            } else {
                "ies are"
            }
        ));
    }
    BlastRadius {
        user,
        admin: if admin_effective {
            Some(true)
        } else {
            user_admin.map(|_| false)
        },
        groups,
        scopes,
        repositories,
        counts,
        summary: parts.join("; "),
        severity: severity.to_owned(),
        permissions_known,
        notes,
        evidence: ctx.evidence,
    }
}

/// The groups whose permissions are needed for the same deploy access: for `replace`.
pub fn groups_with_write(radius: &BlastRadius) -> BTreeSet<String> {
    radius.groups.iter().cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_expand_any() {
        let repos = vec![
            ("libs-local".to_owned(), "local".to_owned()),
            ("npm-remote".to_owned(), "remote".to_owned()),
        ];
        let targets = serde_json::json!([
            {"name": "a", "repo": {"repositories": ["ANY LOCAL"], "actions": ["read", "write"]}},
            {"name": "b", "repo": {"repositories": ["npm-remote"], "actions": ["read"]}},
        ]);
        let mut acc = BTreeMap::new();
        add_targets(&targets, &repos, &mut acc);
        assert!(acc["libs-local"].deploy);
        assert!(!acc["npm-remote"].deploy);
        assert!(acc["npm-remote"].read);
    }
}
