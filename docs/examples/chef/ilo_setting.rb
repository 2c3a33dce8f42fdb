# ilo_setting: properties of one Redfish resource of the iLO, brought to the given values by
# ilo-agent. Put this file in a cookbook as resources/ilo_setting.rb.
#
#   ilo_setting 'PXE boot' do
#     path '/redfish/v1/Systems/1'
#     properties('Boot' => { 'BootSourceOverrideTarget' => 'Pxe' })
#   end
#
# load_current_value runs `ilo-agent set --check` (exit 0: already matches, 10: would change,
# anything else: an error); the action runs `ilo-agent set` only when something differs. Both
# print {"changed", "before", "after"} as JSON. Without `url` it works in-band (as root, no
# credentials in the iLO's production security state).
require 'json'

unified_mode true
provides :ilo_setting

property :path, String, required: true, desired_state: false,
         description: 'Redfish path of the resource, e.g. /redfish/v1/Systems/1'
property :properties, Hash, required: true,
         description: 'desired properties, nested as in the resource (only these are compared)'
property :url, String, desired_state: false,
         description: 'out-of-band: https://ilo-host; without it, in-band (CHIF on iLO 5/6, the virtual NIC on iLO 7)'
property :ca_cert, String, desired_state: false, description: 'PEM file of the CA of the iLO certificate'
property :username, String, desired_state: false
property :password, String, sensitive: true, desired_state: false,
         description: 'given to ilo-agent in ILO_PASSWORD, never on its command line'
property :ilo_agent, String, default: 'ilo-agent', desired_state: false, description: 'the executable'
property :extra_env, Hash, default: {}, desired_state: false, description: 'more variables, e.g. ILO_CHIF_LIB'

# argv of `ilo-agent set` (with --check when check is true): an array, so no shell is involved.
def ilo_agent_argv(check:)
  argv = [ilo_agent, '--output', 'json']
  argv += ['--url', url] if url
  argv += ['--ca-cert', ca_cert] if ca_cert
  argv += ['--username', username] if username
  argv << 'set'
  argv << '--check' if check
  argv + [path, '--data', JSON.generate(properties)]
end

def ilo_agent_env
  env = extra_env.dup
  env['ILO_PASSWORD'] = password if password
  env
end

load_current_value do |new_resource|
  argv = new_resource.ilo_agent_argv(check: true)
  result = shell_out(*argv, environment: new_resource.ilo_agent_env, timeout: 300)
  case result.exitstatus
  when 0 # already matches: nothing to converge
    properties new_resource.properties
  when 10 # differs: the current values of the requested properties
    properties JSON.parse(result.stdout)['before']
  else
    raise "ilo-agent set --check #{new_resource.path} exited #{result.exitstatus}: #{result.stderr.strip}"
  end
end

action :set do
  description 'PATCH the properties that differ (ilo-agent set)'

  converge_if_changed :properties do
    argv = new_resource.ilo_agent_argv(check: false)
    result = shell_out!(*argv, environment: new_resource.ilo_agent_env, timeout: 300) # exit 0 or raise
    outcome = JSON.parse(result.stdout)
    Chef::Log.info("ilo_setting[#{new_resource.name}] #{new_resource.path}: #{JSON.generate(outcome)}")
    Chef::Log.warn("ilo_setting[#{new_resource.name}]: #{result.stderr.strip}") unless result.stderr.strip.empty?
  end
end
