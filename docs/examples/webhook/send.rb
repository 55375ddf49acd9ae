# Tell ssogate that a user's profile changed (Ruby 3, standard library; the
# official Standard Webhooks gem, standardwebhooks, signs the same way).
#   SSOGATE_URL=https://sso.example.com SSOGATE_WEBHOOK_SECRET=whsec_… ruby send.rb USER_ID 'New Name'
require "base64"
require "json"
require "net/http"
require "openssl"
require "securerandom"

def profile_changed(user_id, patch)
  key = Base64.decode64(ENV.fetch("SSOGATE_WEBHOOK_SECRET").delete_prefix("whsec_"))
  id = "msg_#{SecureRandom.hex(16)}"
  body = JSON.generate({ user_id: user_id, patch: patch })
  ts = Time.now.to_i.to_s
  sig = Base64.strict_encode64(OpenSSL::HMAC.digest("SHA256", key, "#{id}.#{ts}.#{body}"))
  uri = URI("#{ENV.fetch("SSOGATE_URL")}/hooks/profile-changed")
  res = Net::HTTP.post(uri, body, "Content-Type" => "application/json",
                                  "webhook-id" => id, "webhook-timestamp" => ts,
                                  "webhook-signature" => "v1,#{sig}")
  answer = JSON.parse(res.body)
  raise "webhook refused: #{res.code} #{answer["error"]["code"]}: #{answer["error"]["message"]}" unless res.code == "202"
  answer # {"user_id" => …, "version" => …, "status" => …}
end

puts JSON.generate(profile_changed(ARGV[0], { display_name: ARGV[1] }))
