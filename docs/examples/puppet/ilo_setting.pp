# ilo_setting: properties of one Redfish resource of the iLO, brought to the given values by
# ilo-agent. `ilo-agent set --check` is the guard (exit 0: already matches, so nothing runs; 10:
# would change; any other exit is an error, and the command then runs and reports it);
# `ilo-agent set` PATCHes only what differs and prints {"changed","before","after"} (logged).
# Both are run without a shell (array form). In a module, name it ilo::setting in
# ilo/manifests/setting.pp.
#
# $properties: dotted keys => values, as on ilo-agent's command line (key=value). A value that
#   parses as JSON is sent as JSON (42, true, null); to send such a text as a string, quote it:
#   '"42"'. Or give a JSON object in $data (e.g. to_json($hash) from puppetlabs-stdlib).
# Without $url it works in-band (as root, no credentials in the iLO's production security state).
define ilo_setting (
  String[1]                                          $path,
  Hash[String[1], Variant[String, Numeric, Boolean]] $properties    = {},
  Optional[String[1]]                                $data          = undef,
  Optional[String[1]]                                $url           = undef, # out-of-band: https://ilo-host
  Optional[String[1]]                                $ca_cert       = undef, # PEM of the iLO certificate's CA
  Optional[String[1]]                                $username      = undef,
  Optional[String[1]]                                $password_file = undef, # one line, mode 0600 (never -p)
  Array[String]                                      $extra_env     = [],    # e.g. ['ILO_CHIF_LIB=/opt/hpe/libilorestchif.so']
  Array[String]                                      $search_path   = ['/usr/local/bin', '/usr/bin', '/bin'],
) {
  if $properties.empty and $data == undef {
    fail("ilo_setting[${title}]: give properties or data")
  }

  $connection = ($url ? { undef => [], default => ['--url', $url] }) +
    ($ca_cert ? { undef => [], default => ['--ca-cert', $ca_cert] }) +
    ($username ? { undef => [], default => ['--username', $username] }) +
    ($password_file ? { undef => [], default => ['--password-file', $password_file] })
  $assignments = $properties.map |$key, $value| { "${key}=${value}" }
  $desired = [$path] + $assignments + ($data ? { undef => [], default => ['--data', $data] })
  $ilo_agent = ['ilo-agent', '--output', 'json'] + $connection

  exec { "ilo_setting ${title}":
    command     => $ilo_agent + ['set'] + $desired,
    unless      => [$ilo_agent + ['set', '--check'] + $desired],
    path        => $search_path,
    environment => $extra_env,
    logoutput   => true,
    timeout     => 300,
  }
}
