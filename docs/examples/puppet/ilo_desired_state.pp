# ilo_desired_state: the iLO brought to an `ilo-agent apply` file (resources and their properties,
# in order; `ilo-agent capture` writes one from a server that is right). In a module, name it
# ilo::desired_state in ilo/manifests/desired_state.pp.
#
# - `ilo-agent apply --check FILE` is the guard: exit 0 when everything is current or already
#   staged for the next reboot, so nothing runs; 10 when something would change; any other exit
#   is an error, and the command then runs and reports it.
# - `ilo-agent apply --detailed-exit FILE` applies through one session and exits 0 (nothing
#   changed), 13 (changed, nothing waits) or 14 (a reboot or an iLO reset is due). Its JSON report
#   is logged.
# - With $reset_notify (e.g. Reboot['after iLO settings'] from puppetlabs-reboot), a second exec
#   refreshes it while a reboot or iLO reset is due (Puppet notifies on every run of an exec,
#   whatever it returned, so "14" needs an exec of its own: see docs/puppet.md).
# Commands are arrays, no shell (but for that exec's guard, a pipe into grep). Without $url it works in-band (as root, no credentials in the
# iLO's production security state; on iLO 7 over the virtual NIC).
define ilo_desired_state (
  String[1]                                 $file          = $title, # absolute path of the apply file on the node
  Optional[String[1]]                       $content       = undef,  # the apply file's JSON: then $file is managed (mode 0600)
  Optional[Variant[Type, Array[Type]]]      $reset_notify  = undef,  # refreshed when a reboot or iLO reset is due
  Optional[String[1]]                       $url           = undef,  # out-of-band: https://ilo-host
  Optional[String[1]]                       $ca_cert       = undef,  # PEM of the iLO certificate's CA
  Optional[String[1]]                       $username      = undef,
  Optional[String[1]]                       $password_file = undef,  # one line, mode 0600 (never -p)
  Array[String]                             $extra_env     = [],     # e.g. ['ILO_AGENT_SOCKET=/run/ilo-agent.sock']
  Array[String]                             $search_path   = ['/usr/local/bin', '/usr/bin', '/bin'],
) {
  if $content != undef {
    file { $file:
      ensure  => file,
      content => $content,
      mode    => '0600', # a configuration can say much about a server
      before  => Exec["ilo_desired_state ${title}"],
    }
  }

  $connection = ($url ? { undef => [], default => ['--url', $url] }) +
    ($ca_cert ? { undef => [], default => ['--ca-cert', $ca_cert] }) +
    ($username ? { undef => [], default => ['--username', $username] }) +
    ($password_file ? { undef => [], default => ['--password-file', $password_file] })
  $ilo_agent = ['ilo-agent', '--output', 'json'] + $connection

  exec { "ilo_desired_state ${title}":
    command     => $ilo_agent + ['apply', '--detailed-exit', $file],
    unless      => [$ilo_agent + ['apply', '--check', $file]],
    returns     => [0, 13, 14],
    path        => $search_path,
    environment => $extra_env,
    logoutput   => true,
    timeout     => 900,
  }

  if $reset_notify != undef {
    # While a reboot or iLO reset is due for this file (changed now, or staged by an earlier run
    # and not yet rebooted), this exec runs and notifies $reset_notify. Not refreshonly: Puppet
    # passes a refresh on through an exec whose guard said no, so a refreshonly exec cannot filter
    # it. `apply --check` changes nothing (also under --noop) and exits 0 for staged values too:
    # only its report says a reset is due ("rebootRequired":true or "iloResetRequired":true, in
    # the one-line JSON of --output json), hence the grep.
    exec { "ilo_desired_state ${title}: reset due":
      command     => ['echo', "ilo_desired_state ${title}: a reboot or iLO reset is due"],
      onlyif      => [['sh', '-c', 'ilo-agent --output json "$@" | grep -q "Required\":true"', 'sh']
                      + $connection + ['apply', '--check', $file]],
      require     => Exec["ilo_desired_state ${title}"],
      notify      => $reset_notify,
      path        => $search_path,
      environment => $extra_env,
      logoutput   => true,
      timeout     => 900,
    }
  }
}
