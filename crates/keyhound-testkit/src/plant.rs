//! Realistic files and lines holding fake JFrog credentials, with ground truth.
//!
//! The CLI tests write each [`Template`] as a fixture file and check that `keyhound scan` finds
//! every credential with the right rule id and line. The benchmark scripts plant the same
//! snippets into a corpus of real text (`keyhound-fake plant`). Nothing here is ever a real
//! credential: every value comes from [`crate::fake`].

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::fake::{self, ALNUM, AccessTokenSpec, Rng};

/// One planted credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// 1-based line of the secret's first character, within the rendered text.
    pub line: u64,
    /// The rule that must report it.
    pub rule_id: &'static str,
    /// The secret value the rule reports.
    pub secret: String,
}

/// A rendered snippet: text and the credentials in it.
#[derive(Debug, Clone)]
pub struct Snippet {
    /// The text.
    pub text: String,
    /// What a scan must find in it.
    pub expected: Vec<Expected>,
}

/// Where a template's text belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// A whole file with this name (`.npmrc`, `settings.xml`...).
    File(&'static str),
    /// Lines that can be inserted into an existing text file of any kind.
    Lines,
}

/// A way to leak a credential.
#[derive(Debug, Clone, Copy)]
pub struct Template {
    /// Short name, used in fixture file names.
    pub name: &'static str,
    /// Where it goes.
    pub placement: Placement,
    /// Renders the snippet for a seed.
    pub render: fn(u64) -> Snippet,
}

/// A password-like random string with letters, digits and a symbol.
pub fn password(seed: u64) -> String {
    let mut rng = Rng::new(seed ^ 0x9a55);
    let mut p = rng.string(ALNUM, 14);
    p.insert(5, *rng.pick(&['!', '#', '%', '+', '-', '_', '=']));
    p
}

/// Random alphanumerics, for tokens with no fixed format.
pub fn opaque_token(seed: u64, len: usize) -> String {
    Rng::new(seed ^ 0x70c3).string(ALNUM, len)
}

fn host(seed: u64) -> String {
    let names = [
        "acme", "globex", "initech", "umbrella", "hooli", "vandelay", "stark", "wayne",
    ];
    if seed % 3 == 0 {
        format!("artifactory.{}.example.net", names[(seed % 8) as usize])
    } else {
        format!("{}{}.jfrog.io", names[(seed % 8) as usize], seed % 97)
    }
}

fn b64(s: &str) -> String {
    STANDARD.encode(s)
}

/// Finds the line of `needle` in `text` (1-based).
fn line_of(text: &str, needle: &str) -> u64 {
    let at = text.find(needle).expect("the template contains its secret");
    text[..at].matches('\n').count() as u64 + 1
}

fn snippet(text: String, found: &[(&'static str, &str)]) -> Snippet {
    let expected = found
        .iter()
        .map(|(rule_id, secret)| Expected {
            line: line_of(&text, secret),
            rule_id,
            secret: (*secret).to_owned(),
        })
        .collect();
    Snippet { text, expected }
}

fn identity_token(seed: u64) -> String {
    fake::jfrog_access_token(&AccessTokenSpec::identity(seed, "ci-deployer"))
}

fn t_env_api_key(seed: u64) -> Snippet {
    let key = fake::jfrog_api_key(seed);
    snippet(
        format!(
            "# deploy settings\nARTIFACTORY_URL=https://{}/artifactory\nARTIFACTORY_API_KEY={key}\n",
            host(seed)
        ),
        &[("keyhound.jfrog.1", &key)],
    )
}

fn t_curl_api_key(seed: u64) -> Snippet {
    let key = fake::jfrog_api_key(seed);
    snippet(
        format!(
            "curl -fsSL -H \"X-JFrog-Art-Api: {key}\" \\\n  \"https://{}/artifactory/api/storage/libs-release-local/app.jar\"\n",
            host(seed)
        ),
        &[("keyhound.jfrog.1", &key)],
    )
}

fn t_bearer_reference(seed: u64) -> Snippet {
    let token = fake::jfrog_reference_token(seed, if seed % 2 == 0 { 0 } else { 1_830_297_600 });
    snippet(
        format!(
            "curl -H \"Authorization: Bearer {token}\" https://{}/access/api/v1/tokens/me\n",
            host(seed)
        ),
        &[("keyhound.jfrog.2", &token)],
    )
}

fn t_yaml_reference(seed: u64) -> Snippet {
    let token = fake::jfrog_reference_token(seed, 0);
    snippet(
        format!(
            "artifactory:\n  url: https://{}/artifactory\n  reference_token: {token}\n",
            host(seed)
        ),
        &[("keyhound.jfrog.2", &token)],
    )
}

fn t_cli_conf(seed: u64) -> Snippet {
    let token = identity_token(seed);
    let pw = password(seed);
    let h = host(seed);
    let text = format!(
        "{{\n  \"servers\": [\n    {{\n      \"url\": \"https://{h}/\",\n      \"artifactoryUrl\": \"https://{h}/artifactory/\",\n      \"user\": \"ci\",\n      \"password\": \"{pw}\",\n      \"accessToken\": \"{token}\",\n      \"serverId\": \"main\",\n      \"isDefault\": true\n    }}\n  ],\n  \"version\": \"6\"\n}}\n"
    );
    snippet(
        text,
        &[("keyhound.jfrog.13", &pw), ("keyhound.jfrog.3", &token)],
    )
}

fn t_terraform(seed: u64) -> Snippet {
    let token = identity_token(seed);
    snippet(
        format!(
            "provider \"artifactory\" {{\n  url          = \"https://{}/artifactory\"\n  access_token = \"{token}\"\n}}\n",
            host(seed)
        ),
        &[("keyhound.jfrog.3", &token)],
    )
}

fn t_settings_xml(seed: u64) -> Snippet {
    let pw = password(seed);
    let enc = fake::jfrog_encrypted_password(seed);
    let h = host(seed);
    let text = format!(
        "<settings>\n  <servers>\n    <server>\n      <id>central</id>\n      <username>deployer</username>\n      <password>{pw}</password>\n    </server>\n    <server>\n      <id>snapshots</id>\n      <username>deployer</username>\n      <password>{enc}</password>\n    </server>\n  </servers>\n  <mirrors>\n    <mirror>\n      <id>central</id>\n      <url>https://{h}/artifactory/maven-virtual</url>\n      <mirrorOf>*</mirrorOf>\n    </mirror>\n  </mirrors>\n</settings>\n"
    );
    snippet(
        text,
        &[("keyhound.jfrog.9", &pw), ("keyhound.jfrog.4", &enc)],
    )
}

fn t_gradle_properties(seed: u64) -> Snippet {
    let pw = password(seed);
    let text = format!(
        "org.gradle.jvmargs=-Xmx2g\nartifactory_user=deployer\nartifactory_password={pw}\nartifactory_contextUrl=https://{}/artifactory\n",
        host(seed)
    );
    snippet(text, &[("keyhound.jfrog.10", &pw)])
}

fn t_gradle_encrypted(seed: u64) -> Snippet {
    let enc = fake::jfrog_encrypted_password(seed);
    snippet(
        format!("artifactory_user=ci\nartifactory_password={enc}\n"),
        &[("keyhound.jfrog.4", &enc)],
    )
}

fn t_pip_conf(seed: u64) -> Snippet {
    let pw = password(seed);
    snippet(
        format!(
            "[global]\nindex-url = https://pypi-user:{pw}@{}/artifactory/api/pypi/pypi-virtual/simple\n",
            host(seed)
        ),
        &[("keyhound.jfrog.5", &pw)],
    )
}

fn t_requirements(seed: u64) -> Snippet {
    let pw = password(seed);
    snippet(
        format!(
            "--extra-index-url https://builder:{pw}@{}/artifactory/api/pypi/pypi-local/simple\nrequests==2.32.3\nurllib3==2.2.2\n",
            host(seed)
        ),
        &[("keyhound.jfrog.5", &pw)],
    )
}

fn t_npmrc(seed: u64) -> Snippet {
    let token = opaque_token(seed, 40);
    let pw = password(seed ^ 1);
    let auth = b64(&format!("deployer:{pw}"));
    let pw2 = password(seed ^ 2);
    let pw2_b64 = b64(&pw2);
    let h = host(seed);
    let text = format!(
        "registry=https://{h}/artifactory/api/npm/npm-virtual/\n//{h}/artifactory/api/npm/npm-virtual/:_authToken={token}\n//{h}/artifactory/api/npm/npm-local/:_auth={auth}\n//{h}/artifactory/api/npm/npm-remote/:username=deployer\n//{h}/artifactory/api/npm/npm-remote/:_password={pw2_b64}\nalways-auth=true\n"
    );
    snippet(
        text,
        &[
            ("keyhound.jfrog.6", &token),
            ("keyhound.jfrog.7", &auth),
            ("keyhound.jfrog.8", &pw2_b64),
        ],
    )
}

fn t_pypirc(seed: u64) -> Snippet {
    let pw = password(seed);
    let text = format!(
        "[distutils]\nindex-servers =\n    artifactory\n\n[artifactory]\nrepository: https://{}/artifactory/api/pypi/pypi-local\nusername: deployer\npassword: {pw}\n",
        host(seed)
    );
    snippet(text, &[("keyhound.jfrog.11", &pw)])
}

fn t_docker_config(seed: u64) -> Snippet {
    let auth = b64(&format!("ci-bot:{}", password(seed)));
    let text = format!(
        "{{\n  \"auths\": {{\n    \"{}\": {{\n      \"auth\": \"{auth}\"\n    }}\n  }}\n}}\n",
        host(seed)
    );
    snippet(text, &[("keyhound.jfrog.12", &auth)])
}

fn t_github_actions(seed: u64) -> Snippet {
    let pw = password(seed);
    let token = fake::jfrog_config_token(seed, &format!("https://{}", host(seed)), "ci", &pw);
    let text = format!(
        "name: release\non: push\njobs:\n  publish:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: jfrog/setup-jfrog-cli@v4\n        env:\n          JF_ENV_1: {token}\n      - run: jf rt upload \"dist/*\" libs-release-local/\n"
    );
    let mut s = snippet(text, &[("keyhound.jfrog.14", &token)]);
    // The password inside the config token is reported at the token's position.
    s.expected.push(Expected {
        line: s.expected[0].line,
        rule_id: "keyhound.jfrog.13",
        secret: pw,
    });
    s
}

fn t_gitlab_ci(seed: u64) -> Snippet {
    let token = opaque_token(seed, 32);
    let text = format!(
        "variables:\n  JFROG_URL: https://{}\n  JFROG_ACCESS_TOKEN: {token}\n\npublish:\n  script:\n    - jf rt upload build/*.tgz generic-local/\n",
        host(seed)
    );
    snippet(text, &[("keyhound.jfrog.15", &token)])
}

fn t_dockerfile(seed: u64) -> Snippet {
    let token = opaque_token(seed, 36);
    snippet(
        format!(
            "FROM eclipse-temurin:21-jdk\nENV JF_ACCESS_TOKEN={token}\nRUN ./gradlew publish\n"
        ),
        &[("keyhound.jfrog.15", &token)],
    )
}

fn t_jenkinsfile(seed: u64) -> Snippet {
    let key = opaque_token(seed, 24);
    let text = format!(
        "pipeline {{\n  agent any\n  stages {{\n    stage('Upload') {{\n      steps {{\n        sh 'curl -H \"X-JFrog-Art-Api: {key}\" -T build/app.zip https://{}/artifactory/generic-local/app.zip'\n      }}\n    }}\n  }}\n}}\n",
        host(seed)
    );
    snippet(text, &[("keyhound.jfrog.16", &key)])
}

fn t_bearer_opaque(seed: u64) -> Snippet {
    let token = opaque_token(seed, 48);
    snippet(
        format!(
            "resp = requests.get(\n    \"https://{}/artifactory/api/repositories\",\n    headers={{\"Authorization\": \"Bearer {token}\"}},\n)\n",
            host(seed)
        ),
        &[("keyhound.jfrog.17", &token)],
    )
}

fn t_basic_header(seed: u64) -> Snippet {
    let auth = b64(&format!("jenkins:{}", password(seed)));
    snippet(
        format!(
            "wget --header \"Authorization: Basic {auth}\" https://{}/artifactory/libs-release/app.war\n",
            host(seed)
        ),
        &[("keyhound.jfrog.18", &auth)],
    )
}

fn t_curl_user(seed: u64) -> Snippet {
    let pw = password(seed);
    snippet(
        format!(
            "curl -u deployer:{pw} -T target/app.jar \"https://{}/artifactory/libs-release-local/com/acme/app.jar\"\n",
            host(seed)
        ),
        &[("keyhound.jfrog.19", &pw)],
    )
}

fn t_refresh_token(seed: u64) -> Snippet {
    let mut rng = Rng::new(seed ^ 0x2ef);
    let h = rng.string(fake::HEX, 32);
    let uuid = format!(
        "{}-{}-4{}-9{}-{}",
        &h[..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..]
    );
    snippet(
        format!(
            "{{\"serverId\":\"main\",\"artifactoryUrl\":\"https://{}/artifactory/\",\"refreshToken\":\"{uuid}\"}}\n",
            host(seed)
        ),
        &[("keyhound.jfrog.20", &uuid)],
    )
}

/// Every template, covering every JFrog rule.
pub const TEMPLATES: &[Template] = &[
    Template {
        name: "env-api-key",
        placement: Placement::File(".env"),
        render: t_env_api_key,
    },
    Template {
        name: "curl-api-key",
        placement: Placement::Lines,
        render: t_curl_api_key,
    },
    Template {
        name: "bearer-reference-token",
        placement: Placement::Lines,
        render: t_bearer_reference,
    },
    Template {
        name: "yaml-reference-token",
        placement: Placement::File("artifactory.yaml"),
        render: t_yaml_reference,
    },
    Template {
        name: "jfrog-cli-conf",
        placement: Placement::File("jfrog-cli.conf.v6"),
        render: t_cli_conf,
    },
    Template {
        name: "terraform",
        placement: Placement::File("main.tf"),
        render: t_terraform,
    },
    Template {
        name: "maven-settings",
        placement: Placement::File("settings.xml"),
        render: t_settings_xml,
    },
    Template {
        name: "gradle-properties",
        placement: Placement::File("gradle.properties"),
        render: t_gradle_properties,
    },
    Template {
        name: "gradle-encrypted",
        placement: Placement::File("init.gradle.properties"),
        render: t_gradle_encrypted,
    },
    Template {
        name: "pip-conf",
        placement: Placement::File("pip.conf"),
        render: t_pip_conf,
    },
    Template {
        name: "requirements",
        placement: Placement::File("requirements.txt"),
        render: t_requirements,
    },
    Template {
        name: "npmrc",
        placement: Placement::File(".npmrc"),
        render: t_npmrc,
    },
    Template {
        name: "pypirc",
        placement: Placement::File(".pypirc"),
        render: t_pypirc,
    },
    Template {
        name: "docker-config",
        placement: Placement::File("config.json"),
        render: t_docker_config,
    },
    Template {
        name: "github-actions",
        placement: Placement::File("release.yml"),
        render: t_github_actions,
    },
    Template {
        name: "gitlab-ci",
        placement: Placement::File(".gitlab-ci.yml"),
        render: t_gitlab_ci,
    },
    Template {
        name: "dockerfile",
        placement: Placement::File("Dockerfile"),
        render: t_dockerfile,
    },
    Template {
        name: "jenkinsfile",
        placement: Placement::File("Jenkinsfile"),
        render: t_jenkinsfile,
    },
    Template {
        name: "python-bearer",
        placement: Placement::Lines,
        render: t_bearer_opaque,
    },
    Template {
        name: "basic-header",
        placement: Placement::Lines,
        render: t_basic_header,
    },
    Template {
        name: "curl-user",
        placement: Placement::Lines,
        render: t_curl_user,
    },
    Template {
        name: "refresh-token",
        placement: Placement::File("jfrog-cli.conf"),
        render: t_refresh_token,
    },
];

/// Text that looks like credentials but is not: placeholders, documentation, hashes, random
/// base64, JWTs from other issuers. A scan of these must report nothing.
pub fn negatives(seed: u64) -> Vec<(&'static str, String)> {
    let mut rng = Rng::new(seed);
    let sha256 = rng.string(fake::HEX, 64);
    let sha1 = rng.string(fake::HEX, 40);
    let random_b64 = STANDARD.encode(rng.bytes(48));
    let other_jwt = fake::other_jwt(seed, "https://login.example-idp.com/");
    let x69 = "X".repeat(69);
    vec![
        ("placeholders.env", format!(
            "ARTIFACTORY_API_KEY=AKCp{x69}\nARTIFACTORY_PASSWORD=${{ARTIFACTORY_PASSWORD}}\nJF_ACCESS_TOKEN=${{{{ secrets.JF_ACCESS_TOKEN }}}}\nJFROG_ACCESS_TOKEN=<your-access-token>\nARTIFACTORY_TOKEN=changeme\n"
        )),
        ("README.md", "## Configure Artifactory\n\nSet `ARTIFACTORY_API_KEY=AKCp5...` (your key starts with AKCp) and run\n`curl -H \"X-JFrog-Art-Api: $ARTIFACTORY_API_KEY\" https://example.jfrog.io/artifactory/api/system/ping`.\nReference tokens look like `cmVmdGtu...` and access tokens like `eyJ2ZXIiOiIyIiwidHlwIjoiSldUIiwiYWxnIjoiUlMyNTYiLCJraWQiOi...`.\n".to_owned()),
        ("checksums.txt", format!("artifactory-7.90.1.tar.gz sha256:{sha256}\nartifactory_password_hash={sha1}\njfrog-cli sha1 {sha1}\n")),
        ("blob.json", format!("{{\"data\": \"{random_b64}\", \"artifactory\": true}}\n")),
        ("oidc.yaml", format!("# not a JFrog token: issued by another identity provider\nid_token: {other_jwt}\nartifactory_url: https://acme.jfrog.io/artifactory\n")),
        ("settings.xml", "<settings><servers><server><id>artifactory</id><username>${env.ART_USER}</username><password>${env.ART_PASSWORD}</password></server></servers></settings>\n".to_owned()),
        (".npmrc", "registry=https://acme.jfrog.io/artifactory/api/npm/npm/\n//acme.jfrog.io/artifactory/api/npm/npm/:_authToken=${NPM_TOKEN}\nalways-auth=true\n".to_owned()),
        ("build.gradle", "repositories {\n  maven {\n    url \"https://acme.jfrog.io/artifactory/libs-release\"\n    credentials {\n      username = artifactory_user\n      password = artifactory_password\n    }\n  }\n}\n".to_owned()),
        ("pip.conf", "[global]\nindex-url = https://${PIP_USER}:${PIP_PASSWORD}@acme.jfrog.io/artifactory/api/pypi/pypi/simple\n".to_owned()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_renders_its_secrets() {
        for t in TEMPLATES {
            let s = (t.render)(7);
            assert!(!s.expected.is_empty(), "{}", t.name);
            for e in &s.expected {
                let line = s
                    .text
                    .lines()
                    .nth(e.line as usize - 1)
                    .expect("line exists");
                let encoded = e.rule_id == "keyhound.jfrog.13" && t.name == "github-actions";
                assert!(
                    encoded || line.contains(&e.secret),
                    "{}: line {} lacks the secret",
                    t.name,
                    e.line
                );
            }
        }
    }
}
