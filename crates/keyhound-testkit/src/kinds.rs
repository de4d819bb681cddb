//! Fake credentials by kind name, for `keyhound-fake`, rule examples and the recall corpus.

use crate::{fake, fake_more};

/// A Google Cloud service account key file (pretty-printed JSON, as gcloud writes it).
fn gcp_service_account(seed: u64) -> String {
    let project = ["acme-prod", "hooli-data", "initech-ci"][(seed % 3) as usize];
    let doc = serde_json::json!({
        "type": "service_account",
        "project_id": project,
        "private_key_id": fake_more::shaped("{h:40}", seed),
        "private_key": fake::private_key("PRIVATE KEY", seed),
        "client_email": format!("deployer@{project}.iam.gserviceaccount.com"),
        "client_id": fake_more::shaped("1{d:20}", seed),
        "token_uri": "https://oauth2.googleapis.com/token",
    });
    // serde_json sorts keys; gcloud starts with "type", which the base64 rule's anchor needs.
    let body = serde_json::to_string_pretty(&doc).unwrap_or_default();
    let body = body.replacen("{\n", "", 1);
    let type_line = "  \"type\": \"service_account\",\n";
    format!("{{\n{type_line}{}", body.replace(type_line, ""))
}

/// One fake value of `kind` (see [`KINDS`]) for `seed`; `None` for an unknown kind. A kind
/// `shape:SHAPE` generates from a shape ([`crate::fake_more::shaped`]).
pub fn generate(kind: &str, seed: u64) -> Option<String> {
    if let Some(shape) = kind.strip_prefix("shape:") {
        return fake_more::shaped(shape, seed);
    }
    Some(match kind {
        "jfrog-api-key" => fake::jfrog_api_key(seed),
        "jfrog-reference-token" => fake::jfrog_reference_token(seed, 0),
        "jfrog-reference-token-expiring" => fake::jfrog_reference_token(seed, 1_798_761_600),
        "jfrog-access-token" => {
            fake::jfrog_access_token(&fake::AccessTokenSpec::identity(seed, "ci-deployer"))
        }
        "jfrog-access-token-rt" => {
            let mut spec = fake::AccessTokenSpec::identity(seed, "deployer");
            spec.service = "jfrt".into();
            spec.scope = "member-of-groups:readers api:*".into();
            spec.audience = format!("jfrt@{}", spec.instance_id);
            fake::jfrog_access_token(&spec)
        }
        "jfrog-admin-token" => {
            let mut spec = fake::AccessTokenSpec::identity(seed, "admin");
            spec.scope = "applied-permissions/admin".into();
            spec.expires_at = None;
            fake::jfrog_access_token(&spec)
        }
        "jfrog-encrypted-password" => fake::jfrog_encrypted_password(seed),
        "jfrog-config-token" => fake::jfrog_config_token(
            seed,
            "https://acme.jfrog.io",
            "ci-bot",
            &fake::jfrog_reference_token(seed, 0),
        ),
        "other-jwt" => fake::other_jwt(seed, "https://accounts.example-idp.com"),
        "github-classic" => fake::github_token("ghp_", seed),
        "github-oauth" => fake::github_token("gho_", seed),
        "github-app" => fake::github_token("ghs_", seed),
        "github-user-to-server" => fake::github_token("ghu_", seed),
        "github-refresh" => fake::github_token("ghr_", seed),
        "github-fine-grained" => fake::github_fine_grained(seed),
        "gitlab-pat" => fake::gitlab_pat(seed),
        "gitlab-pat-routable" => fake::gitlab_routable_token("glpat-", seed),
        "gitlab-deploy" => fake::gitlab_token("gldt-", seed),
        "gitlab-deploy-routable" => fake::gitlab_routable_token("gldt-", seed),
        "gitlab-runner" => fake::gitlab_token("glrt-", seed),
        "gitlab-runner-routable" => fake::gitlab_routable_token("glrt-t1_", seed),
        "gitlab-runner-registration" => fake::gitlab_token("GR1348941", seed),
        "gitlab-trigger" => fake::gitlab_token("glptt-", seed),
        "gitlab-oauth-secret" => fake::gitlab_token("gloas-", seed),
        "gitlab-agent" => fake::gitlab_token("glagent-", seed),
        "gitlab-feed" => fake::gitlab_token("glft-", seed),
        "gitlab-incoming-mail" => fake::gitlab_token("glimt-", seed),
        "gitlab-scim" => fake::gitlab_token("glsoat-", seed),
        "gitlab-job" => fake::gitlab_token("glcbt-", seed),
        "gitlab-feature-flags" => fake::gitlab_token("glffct-", seed),
        "npm" => fake::npm_token(seed),
        "aws" => {
            let (id, secret) = fake::aws_keypair(seed);
            format!("{id} {secret}")
        }
        "aws-temporary" => {
            let (id, secret) = fake::aws_temporary_keypair(seed);
            format!("{id} {secret}")
        }
        "slack-bot" => fake::slack_token("xoxb-", seed),
        "slack-user" => fake::slack_token("xoxp-", seed),
        "slack-app" => fake::slack_token("xapp-", seed),
        "slack-workspace" => fake::slack_token("xoxa-", seed),
        "slack-refresh" => fake::slack_token("xoxr-", seed),
        "slack-rotating-user" => fake::slack_token("xoxe.xoxp-", seed),
        "slack-rotating-bot" => fake::slack_token("xoxe.xoxb-", seed),
        "slack-rotation-refresh" => fake::slack_token("xoxe-", seed),
        "slack-webhook" => fake::slack_webhook(seed),
        "google-api-key" => fake::google_api_key(seed),
        "pypi" => fake::pypi_token(seed),
        "pypi-test" => fake::pypi_token_for("test.pypi.org", seed),
        "dockerhub" => fake::dockerhub_pat(seed),
        "dockerhub-oat" => fake::dockerhub_oat(seed),
        "azure-storage" => fake::azure_storage_key(seed),
        "stripe-live" => fake::stripe_key("sk_live_", seed),
        "stripe-restricted" => fake::stripe_key("rk_live_", seed),
        "stripe-test" => fake::stripe_key("sk_test_", seed),
        "stripe-restricted-test" => fake::stripe_key("rk_test_", seed),
        "twilio-api-key" => {
            let (sid, secret) = fake::twilio_api_key(seed);
            format!("{sid} {secret}")
        }
        "twilio-account" => {
            let (sid, token) = fake::twilio_account(seed);
            format!("{sid} {token}")
        }
        "sendgrid" => fake::sendgrid_key(seed),
        "vault-service" => fake::vault_token("hvs.", seed),
        "vault-batch" => fake::vault_token("hvb.", seed),
        "vault-legacy" => fake::vault_token("s.", seed),
        "vault-unseal-key" => fake::vault_unseal_key(seed),
        "rsa-private-key" => fake::private_key("RSA PRIVATE KEY", seed),
        "ec-private-key" => fake::private_key("EC PRIVATE KEY", seed),
        "pkcs8-private-key" => fake::private_key("PRIVATE KEY", seed),
        "openssh-private-key" => fake::private_key("OPENSSH PRIVATE KEY", seed),
        "dsa-private-key" => fake::private_key("DSA PRIVATE KEY", seed),
        "encrypted-pkcs8-private-key" => fake::private_key("ENCRYPTED PRIVATE KEY", seed),
        "rsa-private-key-legacy-encrypted" => {
            fake::private_key_legacy_encrypted("RSA PRIVATE KEY", seed)
        }
        "ec-private-key-legacy-encrypted" => {
            fake::private_key_legacy_encrypted("EC PRIVATE KEY", seed)
        }
        "openssh-private-key-encrypted" => fake::openssh_private_key_encrypted(seed),
        "basic-auth" => {
            use base64::Engine as _;
            let user =
                ["ci-bot", "deployer", "builder", "svc-release", "jenkins"][(seed % 5) as usize];
            let password = fake_more::shaped("{a:18}", seed).unwrap_or_default();
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        }
        "argocd" => fake_more::jwt(
            seed,
            &serde_json::json!({"alg": "HS256", "typ": "JWT"}),
            &serde_json::json!({"iss": "argocd", "sub": "proj:web:ci", "nbf": 1_767_225_600, "iat": 1_767_225_600, "jti": fake_more::shaped("{uuid}", seed)}),
        ),
        "jenkins-secret" => format!(
            "{{AQAAABAAAA{}=}}",
            fake_more::shaped("{b:63}", seed).unwrap_or_default()
        ),
        "gcp-service-account" => gcp_service_account(seed),
        "gcp-service-account-b64" => {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(gcp_service_account(seed))
        }
        "dockerconfigjson-b64" => {
            use base64::Engine as _;
            let b64 = &base64::engine::general_purpose::STANDARD;
            let registry =
                ["quay.io", "registry.acme.example:5000", "ghcr.io"][(seed % 3) as usize];
            let user = format!("robot-{}", seed % 97);
            let password = fake_more::shaped("{a:32}", seed).unwrap_or_default();
            let auth = b64.encode(format!("{user}:{password}"));
            b64.encode(format!(
                "{{\"auths\":{{\"{registry}\":{{\"auth\":\"{auth}\"}}}}}}"
            ))
        }
        "kube-client-key-b64" => {
            use base64::Engine as _;
            let key = fake::private_key(
                ["RSA PRIVATE KEY", "EC PRIVATE KEY"][(seed % 2) as usize],
                seed,
            );
            base64::engine::general_purpose::STANDARD.encode(key)
        }
        "putty-key" => fake_more::putty_private_key(seed),
        "ssh2-private-key" => fake_more::ssh2_private_key(seed),
        "wireguard-key" => fake_more::wireguard_private_key(seed),
        "pgp-private-key" => fake_more::pgp_private_key(seed),
        "pkcs12" => fake_more::pkcs12_base64(seed),
        "age-secret-key" => fake_more::age_secret_key(seed),
        "discord-bot" => fake_more::discord_bot_token(seed),
        "onepassword-service-account" => fake_more::onepassword_service_account_token(seed),
        "sentry-org" => fake_more::sentry_org_token(seed),
        "cloudflare-tunnel" => fake_more::cloudflare_tunnel_token(seed),
        "kubernetes-service-account" => fake_more::kubernetes_service_account_token(seed),
        "auth0-management" => fake_more::idp_access_token(
            seed,
            &format!(
                "https://{}.auth0.com/",
                ["acme", "globex", "hooli"][(seed % 3) as usize]
            ),
            "https://acme.auth0.com/api/v2/",
        ),
        "okta-access" => fake_more::idp_access_token(
            seed,
            &format!(
                "https://{}.okta.com/oauth2/default",
                ["acme", "globex", "hooli"][(seed % 3) as usize]
            ),
            "api://default",
        ),
        _ => return None,
    })
}

/// Every named kind.
pub const KINDS: &[&str] = &[
    "jfrog-api-key",
    "jfrog-reference-token",
    "jfrog-reference-token-expiring",
    "jfrog-access-token",
    "jfrog-access-token-rt",
    "jfrog-admin-token",
    "jfrog-encrypted-password",
    "jfrog-config-token",
    "other-jwt",
    "github-classic",
    "github-oauth",
    "github-app",
    "github-user-to-server",
    "github-refresh",
    "github-fine-grained",
    "gitlab-pat",
    "gitlab-pat-routable",
    "gitlab-deploy",
    "gitlab-deploy-routable",
    "gitlab-runner",
    "gitlab-runner-routable",
    "gitlab-runner-registration",
    "gitlab-trigger",
    "gitlab-oauth-secret",
    "gitlab-agent",
    "gitlab-feed",
    "gitlab-incoming-mail",
    "gitlab-scim",
    "gitlab-job",
    "gitlab-feature-flags",
    "npm",
    "aws",
    "aws-temporary",
    "slack-bot",
    "slack-user",
    "slack-app",
    "slack-workspace",
    "slack-refresh",
    "slack-rotating-user",
    "slack-rotating-bot",
    "slack-rotation-refresh",
    "slack-webhook",
    "google-api-key",
    "pypi",
    "pypi-test",
    "dockerhub",
    "dockerhub-oat",
    "azure-storage",
    "stripe-live",
    "stripe-restricted",
    "stripe-test",
    "stripe-restricted-test",
    "twilio-api-key",
    "twilio-account",
    "sendgrid",
    "vault-service",
    "vault-batch",
    "vault-legacy",
    "vault-unseal-key",
    "rsa-private-key",
    "ec-private-key",
    "pkcs8-private-key",
    "openssh-private-key",
    "dsa-private-key",
    "encrypted-pkcs8-private-key",
    "rsa-private-key-legacy-encrypted",
    "ec-private-key-legacy-encrypted",
    "openssh-private-key-encrypted",
    "basic-auth",
    "argocd",
    "jenkins-secret",
    "gcp-service-account",
    "gcp-service-account-b64",
    "dockerconfigjson-b64",
    "kube-client-key-b64",
    "putty-key",
    "ssh2-private-key",
    "wireguard-key",
    "pgp-private-key",
    "pkcs12",
    "age-secret-key",
    "discord-bot",
    "onepassword-service-account",
    "sentry-org",
    "cloudflare-tunnel",
    "kubernetes-service-account",
    "auth0-management",
    "okta-access",
];
