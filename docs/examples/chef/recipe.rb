# recipes/default.rb: iLO settings of this server, in-band (chef-client runs as root; the iLO's
# production security state needs no credentials). Uses the ilo_setting resource of this cookbook.

ilo_setting 'asset tag' do
  path '/redfish/v1/Systems/1'
  properties('AssetTag' => node['ilo']['asset_tag'])
end

ilo_setting 'boot from PXE, persistently' do
  path '/redfish/v1/Systems/1'
  properties('Boot' => { 'BootSourceOverrideTarget' => 'Pxe', 'BootSourceOverrideEnabled' => 'Continuous' })
end

# Out-of-band (HTTPS), e.g. from a management node: the password from an encrypted data bag (or
# chef-vault) reaches ilo-agent in its environment (ILO_PASSWORD), never on its command line.
if node['ilo']['url']
  credentials = data_bag_item('ilo', 'credentials') # { "username": ..., "password": ... }
  ilo_setting "asset tag of #{node['ilo']['url']}" do
    path '/redfish/v1/Systems/1'
    properties('AssetTag' => node['ilo']['asset_tag'])
    url node['ilo']['url']
    ca_cert node['ilo']['ca_cert'] # PEM of the CA that signed the iLO's certificate
    username credentials['username']
    password credentials['password']
    sensitive true
  end
end
