"""sitegen.toml: every mistake names the file and the key at fault."""

from __future__ import annotations

from pathlib import Path

import pytest

from sitegen.config import load_config
from sitegen.errors import ConfigError

REMOTE = """
[stack]
api_key = "blt123"
delivery_token = "cs456"
environment = "production"
[site]
base_url = "https://example.com"
locales = ["en-us", "fr-fr"]
"""


def site(tmp_path: Path, toml: str) -> Path:
    (tmp_path / "templates").mkdir(exist_ok=True)
    (tmp_path / "sitegen.toml").write_text(toml, encoding="utf-8")
    return tmp_path


def error_of(tmp_path: Path, toml: str, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(site(tmp_path, toml), env=env or {})
    return str(caught.value)


def test_a_valid_remote_config(tmp_path: Path):
    config = load_config(site(tmp_path, REMOTE), env={})
    assert config.stack.base_url == "https://cdn.contentstack.io"
    assert config.stack.api_key == "blt123"
    assert [loc.code for loc in config.locales] == ["en-us", "fr-fr"]
    assert [loc.prefix for loc in config.locales] == ["", "/fr-fr"]
    assert config.output == tmp_path.resolve() / "public"
    assert config.template_for("blog_post") == "blog_post.html"
    assert "blt123" not in repr(config) and "cs456" not in repr(config)


def test_missing_file_names_it(tmp_path: Path):
    with pytest.raises(ConfigError, match=r"no sitegen\.toml in .*`sitegen init "):
        load_config(tmp_path, env={})


def test_invalid_toml(tmp_path: Path):
    assert "not valid TOML" in error_of(tmp_path, "[stack\n")


def test_unknown_key_is_named_with_the_file(tmp_path: Path):
    message = error_of(tmp_path, REMOTE + 'colour = "red"\n')
    assert "sitegen.toml: site.colour is not a known setting" in message


def test_unknown_top_level_table(tmp_path: Path):
    assert "unknown table [themes]; the tables are [analytics]" in error_of(
        tmp_path, REMOTE + "[themes]\n"
    )


def test_wrong_type(tmp_path: Path):
    message = error_of(tmp_path, REMOTE.replace('environment = "production"', "environment = 3"))
    assert "stack.environment must be a string, got 3" in message


@pytest.mark.parametrize("depth", [0, 6])
def test_include_depth_range(tmp_path: Path, depth: int):
    toml = REMOTE.replace("[site]", f"include_depth = {depth}\n[site]")
    assert "stack.include_depth must be from 1 to 5" in error_of(tmp_path, toml)


def test_unknown_region_lists_the_valid_ones(tmp_path: Path):
    message = error_of(tmp_path, REMOTE.replace("[site]", 'region = "mars"\n[site]'))
    assert "stack.region is 'mars'" in message and "azure-eu" in message


def test_region_picks_the_host(tmp_path: Path):
    config = load_config(site(tmp_path, REMOTE.replace("[site]", 'region = "eu"\n[site]')), env={})
    assert config.stack.base_url == "https://eu-cdn.contentstack.com"


def test_environment_variables_win(tmp_path: Path):
    env = {"CONTENTSTACK_API_KEY": "from-env", "CONTENTSTACK_ENVIRONMENT": "staging"}
    config = load_config(site(tmp_path, REMOTE), env=env)
    assert config.stack.api_key == "from-env"
    assert config.stack.environment == "staging"


def test_interpolation_anywhere(tmp_path: Path):
    toml = REMOTE.replace('"cs456"', '"${TOKEN}"').replace(
        '"https://example.com"', '"https://${HOST}"'
    )
    config = load_config(site(tmp_path, toml), env={"TOKEN": "tok", "HOST": "example.org"})
    assert config.stack.delivery_token == "tok"
    assert config.base_url == "https://example.org"


def test_interpolation_of_an_unset_variable(tmp_path: Path):
    message = error_of(tmp_path, REMOTE.replace('"cs456"', '"${NOPE}"'))
    assert "stack.delivery_token refers to ${NOPE}" in message and "NOPE is not set" in message


def test_missing_credentials_say_where_to_put_them(tmp_path: Path):
    message = error_of(tmp_path, REMOTE.replace('api_key = "blt123"\n', ""))
    assert "stack.api_key is missing" in message and "CONTENTSTACK_API_KEY" in message


def test_local_and_host_are_exclusive(tmp_path: Path):
    (tmp_path / "stack").mkdir()
    toml = REMOTE.replace("[site]", 'local = "stack"\nhost = "http://127.0.0.1:1"\n[site]')
    assert "stack.local and stack.host are both set" in error_of(tmp_path, toml)


def test_local_stack_needs_no_credentials(tmp_path: Path):
    (tmp_path / "stack").mkdir()
    config = load_config(
        site(tmp_path, '[stack]\nlocal = "stack"\nenvironment = "production"\n'), env={}
    )
    assert config.stack.local == (tmp_path / "stack").resolve()
    assert config.stack.api_key is None


def test_host_strips_v3(tmp_path: Path):
    toml = REMOTE.replace("[site]", 'host = "http://127.0.0.1:8765/v3/"\n[site]')
    assert load_config(site(tmp_path, toml), env={}).stack.base_url == "http://127.0.0.1:8765"


def test_locale_prefixes_and_names(tmp_path: Path):
    toml = REMOTE + '[locales.fr-fr]\nname = "Français"\nprefix = "fr"\n'
    config = load_config(site(tmp_path, toml), env={})
    assert config.locales[1].prefix == "/fr" and config.locales[1].name == "Français"


def test_locale_table_for_an_unlisted_locale(tmp_path: Path):
    message = error_of(tmp_path, REMOTE + '[locales.de-de]\nprefix = "/de"\n')
    assert "locales.de-de is not listed in site.locales" in message


def test_duplicate_prefix(tmp_path: Path):
    message = error_of(tmp_path, REMOTE + '[locales.fr-fr]\nprefix = ""\n')
    assert "locales.fr-fr.prefix" in message and "already used by locale en-us" in message


def test_bad_locale_code(tmp_path: Path):
    assert "not a locale code" in error_of(tmp_path, REMOTE.replace('"fr-fr"', '"French"'))


def test_output_may_not_be_the_site_itself(tmp_path: Path):
    message = error_of(tmp_path, REMOTE.replace("[site]", '[site]\noutput = "."'))
    assert "site.output must be a folder inside or beside the site" in message


def test_missing_templates_folder(tmp_path: Path):
    site(tmp_path, REMOTE)
    (tmp_path / "templates").rmdir()
    with pytest.raises(ConfigError, match=r"site\.templates names .* which is not a folder"):
        load_config(tmp_path, env={})


def test_content_type_template_setting(tmp_path: Path):
    toml = REMOTE + '[content_types.blog_post]\ntemplate = "post.html"\n'
    config = load_config(site(tmp_path, toml), env={})
    assert config.template_for("blog_post") == "post.html"
    assert config.template_for("page") == "page.html"
    assert "content_types.blog_post.tmpl is not a known setting" in error_of(
        tmp_path, REMOTE + '[content_types.blog_post]\ntmpl = "x"\n'
    )


def test_hook_settings(tmp_path: Path):
    toml = REMOTE + '[hook]\ndeploy_command = "netlify deploy --prod"\ndebounce = 0.5\n'
    config = load_config(site(tmp_path, toml), env={})
    assert config.hook.deploy_command == "netlify deploy --prod" and config.hook.debounce == 0.5
    both = REMOTE + '[hook]\ndeploy_command = "x"\nbuild_hook_url = "https://api.netlify.com/h"\n'
    assert "hook.build_hook_url and hook.deploy_command are both set" in error_of(tmp_path, both)
    assert "hook.debounce must be" in error_of(tmp_path, REMOTE + "[hook]\ndebounce = -1\n")


def test_hook_limits_are_read_and_checked(tmp_path: Path):
    assert load_config(site(tmp_path, REMOTE), env={}).hook.max_body == 1024 * 1024  # default
    limits = "[hook]\nmax_body = 65536\nbody_timeout = 2.5\nmax_pending = 50\n"
    limits += "max_inflight = 4\nrate = 0.5\nburst = 10\n"
    hook = load_config(site(tmp_path, REMOTE + limits), env={}).hook
    assert (hook.max_body, hook.body_timeout, hook.max_pending) == (65536, 2.5, 50)
    assert (hook.max_inflight, hook.rate, hook.burst) == (4, 0.5, 10)
    assert isinstance(hook.max_body, int) and isinstance(hook.rate, float)
    for bad, words in [
        ("max_body = 10", "hook.max_body must be from 1,024 to 67,108,864 bytes, got 10"),
        ("max_inflight = 2.5", "hook.max_inflight"),
        ("rate = 0", "hook.rate must be from 0.1 to 10,000 requests a second, got 0"),
        ('burst = "lots"', "hook.burst"),
    ]:
        assert words in error_of(tmp_path, REMOTE + f"[hook]\n{bad}\n")


def test_preview_settings_and_defaults(tmp_path: Path):
    config = load_config(
        site(tmp_path, REMOTE), env={"DEPLOY_PRIME_URL": "https://deploy-preview-7--x.netlify.app"}
    )
    assert config.preview.output == tmp_path.resolve() / "public-preview"
    assert config.preview.state_dir == tmp_path.resolve() / ".sitegen-preview"
    assert config.preview.base_url == "https://deploy-preview-7--x.netlify.app"
    config = load_config(site(tmp_path, REMOTE), env={"CONTENTSTACK_PREVIEW_TOKEN": "cspt"})
    assert (
        config.preview.base_url == "https://example.com" and config.preview.preview_token == "cspt"
    )
    assert "cspt" not in repr(config)


def test_preview_may_not_share_production_output(tmp_path: Path):
    message = error_of(tmp_path, REMOTE + '[preview]\noutput = "public"\n')
    assert "a preview must never touch the production site" in message
