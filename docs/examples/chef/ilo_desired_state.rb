# ilo_desired_state: the iLO brought to an `ilo-agent apply` file (resources and their properties,
# in order; `ilo-agent capture` writes one from a server that is right), through one session.
# Put this file in a cookbook as resources/ilo_desired_state.rb.
#
#   ilo_desired_state 'iLO baseline' do
#     apply_file '/etc/ilo-agent/desired.json' # or: content '{"resources": [...]}'
#     reset_notifies [:request_reboot, 'reboot[after iLO settings]']
#   end
#
# `ilo-agent apply --check` is the guard (exit 0: everything current or already staged for the
# next reboot; 10: something would change; anything else raises). Only on 10 does the action run
# `ilo-agent apply --detailed-exit` (0 nothing changed, 13 changed, 14 a reboot or iLO reset is
# due). While a reset is due (14 now, or staged by an earlier run: the --check report says so),
# `reset_notifies` is notified through a notify_group; a plain `notifies` on this resource fires
# on every update, 13 included. Without `url` it works in-band (as root, no credentials in the
# iLO's production security state; the virtual NIC on iLO 7).
require 'json'

unified_mode true
provides :ilo_desired_state

property :apply_file, String, description: 'an apply file on the node (or give content)'
property :content, String, description: 'the apply file as JSON text, given to ilo-agent on standard input'
property :reset_notifies, Array,
         description: '[action, "resource[name]"(, timing)] notified while a reboot or iLO reset is due'
property :url, String, description: 'out-of-band: https://ilo-host; without it, in-band'
property :ca_cert, String, description: 'PEM file of the CA of the iLO certificate'
property :username, String
property :password, String, sensitive: true, description: 'given to ilo-agent in ILO_PASSWORD, never on its command line'
property :ilo_agent, String, default: 'ilo-agent', description: 'the executable'
property :extra_env, Hash, default: {}, description: 'more variables, e.g. ILO_AGENT_SOCKET or ILO_CHIF_LIB'

action_class do
  # Runs `ilo-agent --output json ... apply FLAGS FILE|-` without a shell; the password only in
  # the child's environment.
  def ilo_agent_apply(*flags)
    argv = [new_resource.ilo_agent, '--output', 'json']
    argv += ['--url', new_resource.url] if new_resource.url
    argv += ['--ca-cert', new_resource.ca_cert] if new_resource.ca_cert
    argv += ['--username', new_resource.username] if new_resource.username
    argv += ['apply', *flags, new_resource.content ? '-' : new_resource.apply_file]
    env = new_resource.extra_env.dup
    env['ILO_PASSWORD'] = new_resource.password if new_resource.password
    options = { environment: env, timeout: 900 }
    options[:input] = new_resource.content if new_resource.content
    shell_out(*argv, **options)
  end

  def failed(what, result)
    raise "ilo-agent apply #{what} exited #{result.exitstatus}: #{result.stderr.strip}"
  end

  def summary(report)
    report['resources'].select { |r| r['changed'] }.map { |r| "#{r['path']}: #{JSON.generate(r['before'])} -> #{JSON.generate(r['pending'] || r['after'])}" }.join('; ')
  end
end

action :apply do
  description 'apply the file (ilo-agent apply) when ilo-agent apply --check says something differs'

  raise 'ilo_desired_state: give apply_file or content, not both' unless new_resource.apply_file.nil? ^ new_resource.content.nil?

  check = ilo_agent_apply('--check')
  failed('--check', check) unless [0, 10].include?(check.exitstatus)
  report = JSON.parse(check.stdout)
  reset_due = report['rebootRequired'] || report['iloResetRequired']

  if check.exitstatus == 10
    converge_by("apply #{summary(report)}") do
      result = ilo_agent_apply('--detailed-exit')
      failed('--detailed-exit', result) unless [0, 13, 14].include?(result.exitstatus)
      Chef::Log.info("ilo_desired_state[#{new_resource.name}]: #{result.stdout.strip}")
      reset_due = result.exitstatus == 14
    end
  end

  target = new_resource.reset_notifies
  if reset_due && target
    # Notifications from inside a custom resource reach resources of the recipe (Chef >= 12.9).
    notify_group "ilo_desired_state[#{new_resource.name}]: a reboot or iLO reset is due" do
      notifies(*target)
    end
  elsif reset_due
    Chef::Log.warn("ilo_desired_state[#{new_resource.name}]: a reboot or iLO reset is due (#{report['iloResetRequired'] ? 'iLO reset' : 'reboot'})")
  end
end
